using System.Net;
using System.Net.Sockets;

namespace Slipway.Testing;

public static class FreePort
{
    /// <summary>
    /// Asks the OS for an unused TCP port on 127.0.0.1. The port is released before returning,
    /// so another process can (rarely) grab it: callers that start servers should retry on bind failure.
    /// </summary>
    public static int Get() => Get(IPAddress.Loopback);

    /// <summary>
    /// A port unused on every one of <paramref name="addresses"/> (and on 127.0.0.1). A port free on 127.0.0.1 may be
    /// taken on 127.0.0.12, where another test's simulated host listens: the simulated fleets give every host its own
    /// loopback address and one shared port, so they must ask about the addresses they will bind.
    /// </summary>
    public static int Get(params IPAddress[] addresses)
    {
        var all = addresses.Prepend(IPAddress.Loopback).Distinct().ToArray();
        for (var attempt = 0; ; attempt++)
        {
            var held = new List<TcpListener>();
            try
            {
                var first = new TcpListener(all[0], 0);
                held.Add(first);
                first.Start();
                var port = ((IPEndPoint)first.LocalEndpoint).Port;
                foreach (var address in all.Skip(1))
                {
                    var other = new TcpListener(address, port);
                    held.Add(other);
                    other.Start();
                }
                return port;
            }
            catch (SocketException) when (attempt < 50)
            {
                // Taken on one of the other addresses: ask for another port.
            }
            finally
            {
                foreach (var listener in held)
                    listener.Stop();
            }
        }
    }
}
