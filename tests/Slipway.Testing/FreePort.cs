using System.Net;
using System.Net.Sockets;

namespace Slipway.Testing;

public static class FreePort
{
    /// <summary>
    /// Asks the OS for an unused TCP port on 127.0.0.1. The port is released before returning,
    /// so another process can (rarely) grab it: callers that start servers should retry on bind failure.
    /// </summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
