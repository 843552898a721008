using System.Runtime.InteropServices;

namespace Slipway.Agent.Sandbox;

/// <summary>
/// The few file-system calls .NET does not offer: the real path, change of owner without following links, the type of a
/// file without following links, the effective user.
/// </summary>
internal static partial class NativeFiles
{
    public static bool IsRoot => geteuid() == 0;

    /// <summary>The path with every symbolic link resolved, or null when it does not exist.</summary>
    public static string? RealPathOrNull(string path)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { free(resolved); }
    }

    /// <summary>
    /// Gives <paramref name="root"/> and everything under it to the account, never following a symbolic link (a link is
    /// re-owned itself, its target untouched), so a link planted in a commit cannot make root hand over another file.
    /// </summary>
    public static void ChownTree(string root, int uid, int gid)
    {
        Chown(root, uid, gid);
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            foreach (var entry in new DirectoryInfo(pending.Pop()).EnumerateFileSystemInfos("*", options))
            {
                Chown(entry.FullName, uid, gid);
                if (entry is DirectoryInfo && entry.LinkTarget is null) pending.Push(entry.FullName);
            }
        }
    }

    /// <summary>
    /// True only for a regular file, judged without following a link: the agent must never open a pipe (it would wait
    /// forever for a writer), a device or a socket a job left in its workspace. statx's layout is the same on every
    /// architecture, unlike stat's.
    /// </summary>
    public static unsafe bool IsRegularFile(string path)
    {
        const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, StatxType = 0x1, ModeOffset = 28;
        const int TypeMask = 0xF000, Regular = 0x8000;
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0) return false;
        var mode = *(ushort*)(buffer + ModeOffset);
        return (mode & TypeMask) == Regular;
    }

    /// <summary>
    /// Opens a file for reading only if it is a regular file, without following a link and without waiting: opened with
    /// O_NOFOLLOW | O_NONBLOCK (a pipe opens at once instead of waiting for a writer), then judged on the open descriptor
    /// (fstat through statx), so a process swapping the path between a check and the open gains nothing. Null otherwise.
    /// </summary>
    public static unsafe FileStream? OpenRegularFileOrNull(string path)
    {
        const int ReadOnly = 0, NoFollow = 0x20000, NonBlock = 0x800, CloseOnExec = 0x80000;
        const int AtEmptyPath = 0x1000, StatxType = 0x1, ModeOffset = 28, TypeMask = 0xF000, Regular = 0x8000;
        var fd = open(path, ReadOnly | NoFollow | NonBlock | CloseOnExec);
        if (fd < 0) return null;
        var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        var buffer = stackalloc byte[256];
        if (statx(fd, "", AtEmptyPath, StatxType, buffer) != 0 || (*(ushort*)(buffer + ModeOffset) & TypeMask) != Regular)
        {
            handle.Dispose();
            return null;
        }
        return new FileStream(handle, FileAccess.Read, bufferSize: 0);
    }

    private static void Chown(string path, int uid, int gid)
    {
        if (lchown(path, uid, gid) != 0)
            throw new IOException($"cannot give '{path}' to uid {uid}: {new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError()).Message}");
    }

    [LibraryImport("libc")] private static partial uint geteuid();
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)] private static partial nint realpath(string path, nint resolved);
    [LibraryImport("libc")] private static partial void free(nint pointer);
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] private static partial int open(string path, int flags);
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)] private static unsafe partial int statx(int dirFd, string path, int flags, uint mask, byte* buffer);
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)] private static partial int lchown(string path, int uid, int gid);
}

/// <summary>Accounts of this machine, read from /etc/passwd (no NSS lookup: the sandbox account must be a local one).</summary>
internal static class Accounts
{
    public static JobAccount? Find(string name)
    {
        if (!File.Exists("/etc/passwd")) return null;
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name && int.TryParse(fields[2], out var uid) && int.TryParse(fields[3], out var gid))
                return new JobAccount(name, uid, gid);
        }
        return null;
    }
}
