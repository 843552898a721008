using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Slipway.Agent.Execution;

/// <summary>
/// Starts a program with glibc's <c>posix_spawn</c> in a new session (its own process group), with SIGPIPE back
/// at its default action, given stdin/stdout descriptors, working directory and environment: what
/// <c>setsid env --default-signal=PIPE PROGRAM</c> did from <see cref="System.Diagnostics.Process"/>, but with one
/// exec instead of three. Process creation is the largest cost of a short job (each exec costs several ms of CPU
/// on a small VM), so this is on the throughput path. Linux only (glibc 2.29+ or musl: POSIX_SPAWN_SETSID and
/// posix_spawn_file_actions_addchdir_np). The opaque libc structs are given generously sized zeroed buffers.
/// </summary>
internal static unsafe partial class PosixSpawn
{
    private const short SetSigDefault = 0x04; // POSIX_SPAWN_SETSIGDEF
    private const short SetSigMask = 0x08;    // POSIX_SPAWN_SETSIGMASK
    private const short SetSid = 0x80;        // POSIX_SPAWN_SETSID (glibc and musl)
    private const int SIGPIPE = 13;
    private const int OpaqueSize = 1024;      // posix_spawnattr_t is 336 bytes, file actions 80, sigset_t 128 on x86-64

    /// <summary>
    /// Spawns <paramref name="path"/> with <paramref name="arguments"/> (argv[0] is the path); returns its pid. The child
    /// gets <paramref name="stdinFd"/> as 0 and <paramref name="stdoutFd"/> as 1 and 2.
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment,
        string workingDirectory, int stdinFd, int stdoutFd)
    {
        var actions = NativeMemory.AllocZeroed(OpaqueSize);
        var attr = NativeMemory.AllocZeroed(OpaqueSize);
        var defaults = NativeMemory.AllocZeroed(OpaqueSize);
        var mask = NativeMemory.AllocZeroed(OpaqueSize);
        var args = ToNative([path, .. arguments]);
        var env = ToNative(environment.Select(kv => kv.Key + "=" + kv.Value).ToList());
        var pathPtr = Marshal.StringToCoTaskMemUTF8(path);
        var dirPtr = Marshal.StringToCoTaskMemUTF8(workingDirectory);
        try
        {
            Check(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            try
            {
                Check(posix_spawn_file_actions_adddup2(actions, stdinFd, 0), "adddup2 stdin");
                Check(posix_spawn_file_actions_adddup2(actions, stdoutFd, 1), "adddup2 stdout");
                Check(posix_spawn_file_actions_adddup2(actions, stdoutFd, 2), "adddup2 stderr");
                Check(posix_spawn_file_actions_addchdir_np(actions, dirPtr), "addchdir");
                Check(posix_spawnattr_init(attr), "posix_spawnattr_init");
                try
                {
                    // The .NET runtime ignores SIGPIPE and exec keeps an ignored signal ignored: reset it, as env did.
                    sigemptyset(defaults);
                    sigaddset(defaults, SIGPIPE);
                    Check(posix_spawnattr_setsigdefault(attr, defaults), "setsigdefault");
                    sigemptyset(mask); // a job starts with no signal blocked, whatever the spawning thread had
                    Check(posix_spawnattr_setsigmask(attr, mask), "setsigmask");
                    Check(posix_spawnattr_setflags(attr, SetSid | SetSigDefault | SetSigMask), "setflags");
                    int pid;
                    var error = posix_spawn(&pid, pathPtr, actions, attr, args, env);
                    if (error != 0) throw new Win32Exception(error, $"could not start {path}: {new Win32Exception(error).Message}");
                    return pid;
                }
                finally { posix_spawnattr_destroy(attr); }
            }
            finally { posix_spawn_file_actions_destroy(actions); }
        }
        finally
        {
            Marshal.FreeCoTaskMem(pathPtr);
            Marshal.FreeCoTaskMem(dirPtr);
            FreeNative(args);
            FreeNative(env);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(defaults);
            NativeMemory.Free(mask);
        }
    }

    /// <summary>Blocks until the child ends; returns its exit code (128 + signal when killed, as .NET's Process reports it).</summary>
    public static int WaitForExit(int pid)
    {
        int status;
        while (waitpid(pid, &status, 0) == -1)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != 4 /* EINTR */) throw new InvalidOperationException($"waitpid({pid}) failed: {new Win32Exception(errno).Message}");
        }
        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /// <summary>A pipe whose both ends close on exec (the child gets only the end dup2'd onto 0 or 1).</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, 0x80000 /* O_CLOEXEC */) != 0)
            throw new IOException($"pipe2 failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        return (fds[0], fds[1]);
    }

    public static void Close(int fd) => close(fd);

    private static void Check(int error, string what)
    {
        if (error != 0) throw new Win32Exception(error, $"{what} failed: {new Win32Exception(error).Message}");
    }

    private static nint* ToNative(IReadOnlyList<string> strings)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(strings.Count + 1), (nuint)sizeof(nint));
        for (var i = 0; i < strings.Count; i++) array[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
        return array;
    }

    private static void FreeNative(nint* array)
    {
        for (var p = array; *p != 0; p++) Marshal.FreeCoTaskMem(*p);
        NativeMemory.Free(array);
    }

    [LibraryImport("libc")] private static partial int posix_spawn(int* pid, nint path, void* fileActions, void* attr, nint* argv, nint* envp);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_init(void* actions);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_destroy(void* actions);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_addchdir_np(void* actions, nint path);
    [LibraryImport("libc")] private static partial int posix_spawnattr_init(void* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(void* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(void* attr, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(void* attr, void* signals);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(void* attr, void* signals);
    [LibraryImport("libc")] private static partial int sigemptyset(void* set);
    [LibraryImport("libc")] private static partial int sigaddset(void* set, int signal);
    [LibraryImport("libc", SetLastError = true)] private static partial int waitpid(int pid, int* status, int options);
    [LibraryImport("libc", SetLastError = true)] private static partial int pipe2(int* fds, int flags);
    [LibraryImport("libc")] private static partial int close(int fd);
}
