using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Derivation;

public sealed class KeyRulesTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("team/project/run-17", true)]
    [InlineData("Run_1.2", true)]
    [InlineData("", false)]
    [InlineData("/leading", false)]
    [InlineData("-leading", false)]
    [InlineData("has space", false)]
    [InlineData("naïve", false)]
    [InlineData("pipe|char", false)]
    public void Experiment_ids(string id, bool valid) => Assert.Equal(valid, KeyRules.IsValidExperimentId(id));

    [Fact]
    public void Experiment_ids_are_at_most_128_characters()
    {
        Assert.True(KeyRules.IsValidExperimentId(new string('a', 128)));
        Assert.False(KeyRules.IsValidExperimentId(new string('a', 129)));
    }

    [Theory]
    [InlineData("torch", true)]
    [InlineData("python.hash", true)]
    [InlineData("my-lib_2", true)]
    [InlineData("Torch", false)]
    [InlineData(".torch", false)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    public void Library_names(string name, bool valid) => Assert.Equal(valid, KeyRules.IsValidName(name));

    [Fact]
    public void Names_are_at_most_64_characters_and_streams_may_be_empty()
    {
        Assert.True(KeyRules.IsValidName(new string('a', 64)));
        Assert.False(KeyRules.IsValidName(new string('a', 65)));
        Assert.True(KeyRules.IsValidStream(""));
        Assert.False(KeyRules.IsValidStream(null));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("42", true)]
    [InlineData("340282366920938463463374607431768211455", true)]
    [InlineData("340282366920938463463374607431768211456", false)]
    [InlineData("-1", false)]
    [InlineData("+1", false)]
    [InlineData(" 1", false)]
    [InlineData("1e3", false)]
    [InlineData("0x10", false)]
    [InlineData("", false)]
    public void Roots(string text, bool valid) => Assert.Equal(valid, Root.TryParse(text, out _));

    [Fact]
    public void The_reserved_worker_and_bad_names_are_refused_by_the_derivation()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedSeqV1.Derive(1, KeyRules.ReservedWorker, "torch", ""));
        Assert.Throws<ArgumentException>(() => SeedSeqV1.Derive(1, 0, "Torch", ""));
        Assert.Throws<ArgumentException>(() => SeedSeqV1.Derive(1, 0, "torch", "Bad Stream"));
    }

    [Fact]
    public void Widths_truncate_the_64_bit_seed()
    {
        foreach (var (library, width) in Libraries.CanonicalWidths)
        {
            var seed = SeedSeqV1.Derive(7, 3, library, "");
            Assert.Equal(width, seed.Width);
            Assert.Equal(seed.Seed64 & (width == 64 ? ulong.MaxValue : (1UL << width) - 1), seed.Seed);
        }

        Assert.Equal(64, SeedSeqV1.Derive(7, 3, "lightgbm", "").Width);
    }

    [Fact]
    public void Generated_roots_differ()
    {
        Assert.NotEqual(Root.Generate(), Root.Generate());
    }
}
