using System.Runtime.InteropServices;
using TorchSharp;

namespace SeedDaemon.Client.Torch;

/// <summary>Loads libtorch through TorchSharp, and turns its load failures into messages that name the cause.</summary>
public static class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static bool _loaded;

    /// <summary>
    /// Makes sure TorchSharp's native library and libtorch are loaded (CPU). Throws
    /// <see cref="TorchUnavailableException"/> with the real cause, e.g. the libstdc++ gap.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded)
            {
                return;
            }

            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
                _loaded = true;
            }
            catch (Exception error) when (error is NotSupportedException or TypeInitializationException or DllNotFoundException or EntryPointNotFoundException)
            {
                throw Diagnose(error);
            }
        }
    }

    /// <summary>Whether CUDA is usable by TorchSharp here (a CUDA libtorch backend and a GPU).</summary>
    public static bool CudaAvailable()
    {
        EnsureLoaded();
        try
        {
            return torch.cuda.is_available();
        }
        catch (Exception error) when (error is NotSupportedException or DllNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private static TorchUnavailableException Diagnose(Exception original)
    {
        foreach (var candidate in NativeCandidates())
        {
            if (!File.Exists(candidate))
            {
                continue;
            }

            try
            {
                NativeLibrary.Free(NativeLibrary.Load(candidate));
            }
            catch (DllNotFoundException loadError) when (loadError.Message.Contains("GLIBCXX_3.4.3", StringComparison.Ordinal))
            {
                return new TorchUnavailableException(
                    $"libtorch could not be loaded: {candidate} needs GLIBCXX_3.4.32 (GCC 13's libstdc++) and this system's libstdc++ is older " +
                    "(Debian 12, Ubuntu 22.04). TorchSharp's message about a missing libtorch-cpu-linux-x64 reference is misleading. " +
                    "Remedy: build the app with SeedDaemon.Client.Torch's build targets (they mark that version weak in the build output's copy of " +
                    "libLibTorchSharp.so; the only symbol behind it, std::ios_base_library_init(), is never called), or run on Debian 13 / Ubuntu 24.04. " +
                    "Do not replace system libraries. Loader said: " + loadError.Message,
                    original);
            }
            catch (DllNotFoundException loadError)
            {
                return new TorchUnavailableException($"libtorch could not be loaded from {candidate}: {loadError.Message}", original);
            }
        }

        return new TorchUnavailableException(
            "libtorch could not be loaded: no libLibTorchSharp.so was found next to the application. Reference a libtorch backend package " +
            "(e.g. libtorch-cpu-linux-x64 2.10.0 for TorchSharp 0.107). TorchSharp said: " + original.Message,
            original);
    }

    private static IEnumerable<string> NativeCandidates()
    {
        var baseDirectory = AppContext.BaseDirectory;
        yield return Path.Combine(baseDirectory, "libLibTorchSharp.so");
        yield return Path.Combine(baseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libLibTorchSharp.so");
        yield return Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }
}

/// <summary>TorchSharp or libtorch cannot be used in this process; the message says why and what to do.</summary>
public sealed class TorchUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
