using Grpc.Core;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>Experiment management through a real gRPC channel to a real Kestrel.</summary>
public abstract class ExperimentTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    [Fact]
    public async Task Create_with_a_root_stores_it_and_is_idempotent()
    {
        var created = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest
        {
            ExperimentId = "team/proj/run-1",
            Root = "42",
            Labels = { ["owner"] = "ml-platform", ["purpose"] = "test" },
        });

        Assert.Equal("team/proj/run-1", created.ExperimentId);
        Assert.Equal("42", created.Root);
        Assert.Equal(SeedSeqV1.Scheme, created.Scheme);
        Assert.False(created.RootGenerated);
        Assert.False(created.Frozen);
        Assert.Equal("ml-platform", created.Labels["owner"]);
        Assert.InRange(created.CreateTime.ToDateTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddSeconds(1));

        var again = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "team/proj/run-1", Root = "42" });
        Assert.Equal(created, again);

        var withoutRoot = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "team/proj/run-1" });
        Assert.Equal(created, withoutRoot);
    }

    [Fact]
    public async Task Create_with_a_different_root_is_ALREADY_EXISTS_and_changes_nothing()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "conflict", Root = "1" });
        var error = await RpcAssert.FailsWith(StatusCode.AlreadyExists, async () =>
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "conflict", Root = "2" }));
        Assert.Contains("conflict", error.Status.Detail, StringComparison.Ordinal);

        var stored = await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "conflict" });
        Assert.Equal("1", stored.Root);
    }

    [Fact]
    public async Task Create_without_a_root_draws_128_bits_once()
    {
        var first = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "generated" });
        Assert.True(first.RootGenerated);
        Assert.True(Root.TryParse(first.Root, out var root));
        Assert.NotEqual(UInt128.Zero, root);

        var second = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "generated" });
        Assert.Equal(first.Root, second.Root);

        var other = await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "generated-2" });
        Assert.NotEqual(first.Root, other.Root);
    }

    [Theory]
    [InlineData("", "42", "experiment_id")]
    [InlineData("bad id", "42", "experiment_id")]
    [InlineData("a/../b", "42", "experiment_id")]
    [InlineData("a//b", "42", "experiment_id")]
    [InlineData("a/b/", "42", "experiment_id")]
    [InlineData("a/./b", "42", "experiment_id")]
    [InlineData("ok", "340282366920938463463374607431768211456", "root")]
    [InlineData("ok", "-5", "root")]
    [InlineData("ok", "12abc", "root")]
    public async Task Create_with_bad_input_is_INVALID_ARGUMENT_naming_the_field(string id, string root, string field)
    {
        await RpcAssert.InvalidField(field, async () =>
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = root }));
        await RpcAssert.FailsWith(StatusCode.NotFound, async () =>
            await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "ok" }));
    }

    [Fact]
    public async Task Bad_labels_are_INVALID_ARGUMENT()
    {
        await RpcAssert.InvalidField("labels", async () =>
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "labelled", Root = "1", Labels = { ["bad key"] = "v" } }));
        await RpcAssert.InvalidField("labels", async () =>
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "labelled", Root = "1", Labels = { ["k"] = new string('v', 257) } }));
    }

    [Fact]
    public async Task Get_unknown_is_NOT_FOUND_and_bad_id_is_INVALID_ARGUMENT()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, async () =>
            await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "never-created" }));
        await RpcAssert.InvalidField("experiment_id", async () =>
            await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "../etc" }));
    }

    [Fact]
    public async Task List_pages_through_experiments_in_id_order()
    {
        var ids = Enumerable.Range(0, 7).Select(i => $"list/exp-{i}").ToList();
        foreach (var id in ids.AsEnumerable().Reverse())
        {
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "7" });
        }

        var seen = new List<string>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await daemon.Seeds.ListExperimentsAsync(new ListExperimentsRequest { PageSize = 3, PageToken = token });
            Assert.True(page.Experiments.Count <= 3);
            seen.AddRange(page.Experiments.Select(e => e.ExperimentId));
            token = page.NextPageToken;
            pages++;
        }
        while (token != "" && pages < 100);

        Assert.Equal(seen.OrderBy(s => s, StringComparer.Ordinal), seen);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.True(ids.All(seen.Contains));
    }

    [Theory]
    [InlineData(-1, "", "page_size")]
    [InlineData(1001, "", "page_size")]
    [InlineData(10, "garbage", "page_token")]
    [InlineData(10, "p1.!!!", "page_token")]
    public async Task List_with_bad_paging_is_INVALID_ARGUMENT(int pageSize, string token, string field)
    {
        await RpcAssert.InvalidField(field, async () =>
            await daemon.Seeds.ListExperimentsAsync(new ListExperimentsRequest { PageSize = pageSize, PageToken = token }));
    }

    [Fact]
    public async Task Freeze_is_idempotent_and_unknown_is_NOT_FOUND()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "to-freeze", Root = "5" });
        var frozen = await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "to-freeze" });
        Assert.True(frozen.Frozen);
        Assert.True((await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "to-freeze" })).Frozen);
        Assert.True((await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "to-freeze" })).Frozen);

        await RpcAssert.FailsWith(StatusCode.NotFound, async () =>
            await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "no-such" }));
        await RpcAssert.InvalidField("experiment_id", async () =>
            await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "" }));
    }
}
