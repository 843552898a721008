using System.Diagnostics;

namespace Slipway.Testing.Fleet;

/// <summary>
/// One simulated target host of a <see cref="SimulatedFleet"/>: its own sshd (own host key, own port) and its
/// own service on its own port, serving <c>Root/current/</c>, under its own directory:
/// <c>incoming/ releases/&lt;ver&gt;/ current -&gt; releases/&lt;ver&gt; bin/svc.sh run/ log/</c>.
/// Scripts run over SSH see <c>HOST_ROOT</c>, <c>HOST_NAME</c> and <c>APP_PORT</c> (set by the host's sshd).
/// </summary>
public sealed class SimulatedHost
{
    internal SimulatedHost(string name, string root, string address, int appPort)
    {
        Name = name;
        Address = address;
        Root = root;
        AppPort = appPort;
    }

    public string Name { get; }

    /// <summary>The host's own loopback address (127.0.0.11, .12, ...): its service listens there, its sshd there and on 127.0.0.1.</summary>
    public string Address { get; }
    public string Root { get; }
    public int AppPort { get; }
    public int SshPort { get; internal set; }

    /// <summary>The host key's fingerprint as <c>ssh-keygen -lf</c> prints it: "SHA256:..." (unpadded base64).</summary>
    public string Fingerprint { get; internal set; } = "";

    public string Incoming => Path.Combine(Root, "incoming");
    public string SshdLog => Path.Combine(Root, "log", "sshd.log");
    public string ServicePidFile => Path.Combine(Root, "run", "svc.pid");
    public string AppUrl => $"http://{Address}:{AppPort}";

    internal Process? Sshd { get; set; }
    internal string SshdConfig => Path.Combine(Root, "sshd.conf");

    public bool SshdRunning => Sshd is { HasExited: false };

    /// <summary>The version the <c>current</c> link points at (its VERSION file).</summary>
    public string ReadCurrentVersion() => File.ReadAllText(Path.Combine(Root, "current", "VERSION")).Trim();

    public override string ToString() => $"{Name} (ssh 127.0.0.1:{SshPort}, app {Address}:{AppPort})";
}
