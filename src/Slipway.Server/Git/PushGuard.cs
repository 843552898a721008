using System.Text;
using Microsoft.AspNetCore.Http;
using Slipway.Core.Releases;

namespace Slipway.Server.Git;

/// <summary>One ref update of a push: <c>old new ref</c>; an all-zero id means create (old) or delete (new).</summary>
public sealed record PushCommand(string Old, string New, string Ref)
{
    public static bool IsZero(string id) => id.All(c => c == '0');
}

/// <summary>
/// Protected branches and release tags of hosted repositories. The project's default (release) branch and every branch
/// an admin marked protected change only through merges Slipway performs: a push that creates, moves (fast-forward or
/// forced) or deletes one is refused whole before git sees it. One exception: the default branch may be created
/// by the first push into a repository that has no refs yet (a new hosted project starts empty). Tags matching the
/// project's protected tag patterns (<see cref="ProtectedTags"/>) are never moved or deleted by a push, and are
/// created only by users holding repo.protect: that is how a release tag is made.
/// </summary>
public static class PushGuard
{
    private const int MaxCommands = 10_000;
    private const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Reads the pkt-line command list up to its flush packet. Returns the commands, the client's capabilities
    /// (from the first line) and every byte read, to be passed on to git unchanged.
    /// </summary>
    public static async Task<(IReadOnlyList<PushCommand> Commands, string Capabilities, byte[] Consumed)> ReadCommandsAsync(Stream body, CancellationToken ct)
    {
        var capabilities = "";
        var consumed = new MemoryStream();
        var commands = new List<PushCommand>();
        var header = new byte[4];
        while (true)
        {
            await ReadExactlyAsync(body, header, ct);
            consumed.Write(header);
            if (!int.TryParse(Encoding.ASCII.GetString(header), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var length))
                throw new ArgumentException("malformed push request");
            if (length == 0) break;
            if (length < 4 || consumed.Length + length > MaxBytes || commands.Count >= MaxCommands)
                throw new ArgumentException("malformed push request");
            var payload = new byte[length - 4];
            await ReadExactlyAsync(body, payload, ct);
            consumed.Write(payload);
            var line = Encoding.UTF8.GetString(payload).TrimEnd('\n');
            var nul = line.IndexOf('\0');
            var caps = nul >= 0 ? line[(nul + 1)..] : null;
            if (nul >= 0) line = line[..nul];
            if (line.StartsWith("shallow ", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            if (parts.Length != 3) throw new ArgumentException("malformed push command (push certificates are not supported)");
            commands.Add(new PushCommand(parts[0], parts[1], parts[2]));
            if (caps is not null && commands.Count == 1) capabilities = caps;
        }
        return (commands, capabilities, consumed.ToArray());
    }

    private static async Task ReadExactlyAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        try { await body.ReadExactlyAsync(buffer, ct); }
        catch (EndOfStreamException) { throw new ArgumentException("truncated push request"); }
    }

    /// <summary>Null when the push may go ahead; otherwise the rule it breaks, naming the branch or tag.</summary>
    /// <param name="mayCreateProtectedTags">The pusher holds repo.protect on the project.</param>
    public static async Task<string?> CheckAsync(ProjectRow project, IReadOnlyList<PushCommand> commands, string repository,
        ProjectProtection protection, bool mayCreateProtectedTags, TimeSpan timeout, CancellationToken ct)
    {
        bool? empty = null;
        foreach (var command in commands)
        {
            if (command.Ref.StartsWith("refs/tags/", StringComparison.Ordinal))
            {
                if (ProtectedTags.CheckPush(command.Ref["refs/tags/".Length..], PushCommand.IsZero(command.Old), PushCommand.IsZero(command.New),
                        mayCreateProtectedTags, protection.ProtectedTags) is { } refusal)
                    return refusal;
                continue;
            }
            if (!command.Ref.StartsWith("refs/heads/", StringComparison.Ordinal)) continue;
            var branch = command.Ref["refs/heads/".Length..];
            if (!protection.IsProtected(branch)) continue;
            if (PushCommand.IsZero(command.New))
                return $"branch '{branch}' is protected: it cannot be deleted";
            if (PushCommand.IsZero(command.Old) && branch == project.DefaultBranch)
            {
                empty ??= (await GitCli.OutputAsync(repository, ["for-each-ref", "--count=1", "--format=%(refname)"], timeout, ct)).Trim().Length == 0;
                if (empty.Value) continue; // the first push into a new, empty hosted repository
            }
            return $"branch '{branch}' is protected: it changes only through merges Slipway performs, never by a push";
        }
        return null;
    }

    /// <summary>
    /// Answers the push as receive-pack would: every ref "ng" with the reason, so git prints
    /// "! [remote rejected] main -> main (branch 'main' is protected: ...)" and fails.
    /// </summary>
    public static async Task WriteRefusalAsync(HttpResponse response, IReadOnlyList<PushCommand> commands, string capabilities, string reason,
        CancellationToken ct)
    {
        var caps = capabilities.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!caps.Contains("report-status") && !caps.Contains("report-status-v2"))
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            await response.WriteAsync(reason + "\n", ct);
            return;
        }
        var report = new MemoryStream();
        Pkt(report, "unpack ok\n");
        foreach (var command in commands)
            Pkt(report, $"ng {command.Ref} {reason}\n");
        report.Write("0000"u8);
        var output = new MemoryStream();
        if (caps.Contains("side-band-64k") || caps.Contains("side-band"))
        {
            Pkt(output, [2, .. Encoding.UTF8.GetBytes("slipway: push refused: " + reason + "\n")]);
            Pkt(output, [1, .. report.ToArray()]);
            output.Write("0000"u8);
        }
        else report.WriteTo(output);
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/x-git-receive-pack-result";
        response.Headers.CacheControl = "no-cache";
        await response.Body.WriteAsync(output.ToArray(), ct);
    }

    private static void Pkt(Stream to, string text) => Pkt(to, Encoding.UTF8.GetBytes(text));

    private static void Pkt(Stream to, byte[] payload)
    {
        to.Write(Encoding.ASCII.GetBytes((payload.Length + 4).ToString("x4")));
        to.Write(payload);
    }
}

/// <summary>The bytes already read from a stream, then the rest of it.</summary>
public sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyStream
{
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        if (_position >= prefix.Length) return rest.Read(buffer);
        var n = Math.Min(buffer.Length, prefix.Length - _position);
        prefix.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position < prefix.Length)
        {
            var n = Math.Min(buffer.Length, prefix.Length - _position);
            prefix.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        return await rest.ReadAsync(buffer, ct);
    }
}
