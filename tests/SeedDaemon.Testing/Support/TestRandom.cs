namespace SeedDaemon.Testing;

/// <summary>
/// The seed of a test's randomness: SEEDD_TEST_RANDOM_SEED when set (to replay a failure whose
/// message names its seed), otherwise a new one each run.
/// </summary>
public static class TestRandom
{
    public static int Seed() =>
        int.TryParse(Environment.GetEnvironmentVariable("SEEDD_TEST_RANDOM_SEED"), out var given) ? given : Environment.TickCount;
}
