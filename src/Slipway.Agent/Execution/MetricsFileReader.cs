using System.Text;
using Slipway.Agent.Sandbox;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution;

/// <summary>
/// Reads the job's metrics file (<see cref="JobLease.MetricsFile"/>) for the finish report: its text, at most
/// <see cref="MetricsFileContent.MaxBytes"/>, from a regular file only, never through a symbolic link, never waiting on a
/// pipe a hostile job left there (<see cref="NativeFiles.OpenRegularFileOrNull"/>). The server parses it (the agent is
/// not trusted to have parsed it honestly, and one parser in one place gives one set of error messages).
/// </summary>
public static class MetricsFileReader
{
    public static async Task<MetricsFileContent?> ReadAsync(Workspace workspace, string? relative, CancellationToken ct)
    {
        if (relative is null) return null;
        try
        {
            var path = workspace.SafePath(relative);
            if (!File.Exists(path) && !Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
                return new MetricsFileContent(relative, null, "was not written by the job (no such file)");
            await using var stream = NativeFiles.OpenRegularFileOrNull(path);
            if (stream is null) return new MetricsFileContent(relative, null, "is not a regular file (a link, a folder, a pipe or a device is not read)");
            // At most one byte past the limit is read, whatever the file's size says (a file can grow while it is read).
            var buffer = new byte[MetricsFileContent.MaxBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
            if (length > MetricsFileContent.MaxBytes)
                return new MetricsFileContent(relative, null, $"is {Math.Max(stream.Length, length) / (1024.0 * 1024.0):0.#} MiB, larger than the 1 MiB a metrics file may be");
            return new MetricsFileContent(relative, new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, length), null);
        }
        catch (DecoderFallbackException) { return new MetricsFileContent(relative, null, "is not UTF-8 text"); }
        catch (InvalidDataException e) { return new MetricsFileContent(relative, null, e.Message); }
        catch (IOException e) { return new MetricsFileContent(relative, null, $"could not be read: {e.Message}"); }
        catch (UnauthorizedAccessException e) { return new MetricsFileContent(relative, null, $"could not be read: {e.Message}"); }
    }
}
