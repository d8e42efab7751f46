namespace SeedDaemon.Client;

/// <summary>The daemon's answer differs from what seedseq-v1 derives locally, or uses a scheme this SDK does not know.</summary>
public sealed class SeedVerificationException(string message) : Exception(message);
