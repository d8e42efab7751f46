using System.Runtime.InteropServices;

namespace SeedDaemon.Client.Torch;

/// <summary>
/// Environment variables that native code sees. On Unix .NET keeps its own copy of the environment,
/// so <see cref="Environment.SetEnvironmentVariable(string, string)"/> alone never reaches cuBLAS.
/// </summary>
internal static partial class NativeEnvironment
{
    public static string? Get(string name) => Marshal.PtrToStringUTF8(getenv(name)) ?? Environment.GetEnvironmentVariable(name);

    public static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (!OperatingSystem.IsWindows() && setenv(name, value, 1) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int setenv(string name, string value, int overwrite);
}
