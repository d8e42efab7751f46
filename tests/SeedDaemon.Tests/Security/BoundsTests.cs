using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Security;

/// <summary>Oversized input is refused with a meaningful status, never a crash or an unbounded allocation.</summary>
public sealed class BoundsTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task A_message_over_the_limit_is_RESOURCE_EXHAUSTED()
    {
        var request = new CreateExperimentRequest { ExperimentId = "bounds/big", Root = "1" };
        request.Labels["blob"] = new string('x', 2 * 1024 * 1024);
        await RpcAssert.FailsWith(StatusCode.ResourceExhausted, async () => await daemon.Seeds.CreateExperimentAsync(request));
    }

    [Fact]
    public async Task Too_many_labels_or_oversized_client_metadata_are_INVALID_ARGUMENT()
    {
        var request = new CreateExperimentRequest { ExperimentId = "bounds/labels", Root = "1" };
        for (var i = 0; i < 65; i++)
        {
            request.Labels[$"k{i}"] = "v";
        }

        await RpcAssert.InvalidField("labels", async () => await daemon.Seeds.CreateExperimentAsync(request));

        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bounds/meta", Root = "1" });
        await RpcAssert.InvalidField("metadata x-seedd-client-host", async () => await daemon.Seeds.GetSeedAsync(
            new GetSeedRequest { ExperimentId = "bounds/meta", Worker = 1, Library = "torch" },
            new Metadata { { "x-seedd-client-host", new string('h', 300) } }));
        await RpcAssert.InvalidField("metadata x-seedd-client-labels", async () => await daemon.Seeds.GetSeedAsync(
            new GetSeedRequest { ExperimentId = "bounds/meta", Worker = 1, Library = "torch" },
            new Metadata { { "x-seedd-client-labels", "no-equals-sign" } }));
        var events = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "bounds/meta" });
        Assert.Empty(events.Events);
    }
}
