namespace Slipway.Server.Blobs;

/// <summary>
/// The blob store is misconfigured, unreachable or refused a request. The message names the store, the key and the
/// status, never a credential: it goes to logs and, at start-up, to the console.
/// </summary>
public sealed class BlobStoreException(string message, Exception? inner = null) : Exception(message, inner);
