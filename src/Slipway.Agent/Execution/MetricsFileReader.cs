using System.Text;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution;

/// <summary>
/// Reads the job's metrics file (<see cref="JobLease.MetricsFile"/>) for the finish report: its text, at most
/// <see cref="MetricsFileContent.MaxBytes"/>, never through a symbolic link. The server parses it (the agent is not trusted
/// to have parsed it honestly, and one parser in one place gives one set of error messages).
/// </summary>
public static class MetricsFileReader
{
    public static async Task<MetricsFileContent?> ReadAsync(Workspace workspace, string? relative, CancellationToken ct)
    {
        if (relative is null) return null;
        try
        {
            var path = workspace.SafePath(relative);
            var info = new FileInfo(path);
            if (!info.Exists) return new MetricsFileContent(relative, null, "was not written by the job (no such file)");
            if (info.Length > MetricsFileContent.MaxBytes)
                return new MetricsFileContent(relative, null, $"is {info.Length / (1024.0 * 1024.0):0.#} MiB, larger than the 1 MiB a metrics file may be");
            var bytes = await File.ReadAllBytesAsync(path, ct);
            return new MetricsFileContent(relative, new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes), null);
        }
        catch (DecoderFallbackException) { return new MetricsFileContent(relative, null, "is not UTF-8 text"); }
        catch (InvalidDataException e) { return new MetricsFileContent(relative, null, e.Message); }
        catch (IOException e) { return new MetricsFileContent(relative, null, $"could not be read: {e.Message}"); }
        catch (UnauthorizedAccessException e) { return new MetricsFileContent(relative, null, $"could not be read: {e.Message}"); }
    }
}
