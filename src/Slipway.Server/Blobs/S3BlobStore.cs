using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Slipway.Server.Blobs;

/// <summary>
/// Blobs as objects in an S3-compatible bucket under a key prefix, shared by every server node. Thread-safe (one
/// client, no state of its own). Written against AWSSDK.S3 4.x and checked on s3rver (docs/operations.md):
/// <list type="bullet">
/// <item>Every PutObject and UploadPart sets <c>UseChunkEncoding = false</c>: with aws-chunked bodies some
/// S3-compatible servers store the chunk-signature framing inside the object (silent corruption).</item>
/// <item>Multipart uploads are made by hand (TransferUtility sends chunked bodies too); a failed one is aborted so
/// its parts do not linger (and cost) in the bucket.</item>
/// <item>Request checksums only where S3 requires them: some servers reject the newer checksum headers.</item>
/// </list>
/// Retries are the SDK's own. Every failure surfaces as <see cref="BlobStoreException"/> naming the bucket, key and
/// status, never a credential.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>Files up to this size go in one PutObject; larger ones as a multipart upload.</summary>
    public const long SinglePutLimit = 16L * 1024 * 1024;

    /// <summary>Size of each multipart part but the last (S3's minimum is 5 MiB).</summary>
    public const long PartSize = 8L * 1024 * 1024;

    private readonly IAmazonS3 _s3;
    private readonly S3Location _location;
    private readonly string[] _secrets;
    private readonly TimeSpan _timeout;

    private S3BlobStore(IAmazonS3 s3, S3Location location, string endpoint, string[] secrets, TimeSpan timeout)
    {
        _s3 = s3;
        _location = location;
        _secrets = secrets;
        _timeout = timeout;
        Description = $"{location} at {endpoint}";
    }

    public string Description { get; }

    /// <summary>A store for <paramref name="location"/> with the endpoint, region, credentials and addressing of <paramref name="options"/>.</summary>
    public static S3BlobStore Create(S3Location location, ServerOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.S3PathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // Each request's own limit (the SDK retries a timed-out request): without it a server that accepts and never
            // answers would hold a start-up, an upload or a log archive for the SDK's default of 100 s per attempt.
            Timeout = options.S3RequestTimeout,
        };
        string endpoint;
        if (options.S3Endpoint is { Length: > 0 } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new BlobStoreException($"S3 endpoint '{url}' is not an http(s) URL");
            if (uri.UserInfo.Length > 0)
                throw new BlobStoreException("the S3 endpoint must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
            config.ServiceURL = url;
            config.AuthenticationRegion = options.S3Region;
            endpoint = uri.GetLeftPart(UriPartial.Authority);
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.S3Region);
            endpoint = $"AWS {options.S3Region}";
        }
        var client = options.S3AccessKey is { Length: > 0 } id && options.S3SecretKey is { Length: > 0 } secret
            ? new AmazonS3Client(Credentials(id, secret), config)
            : new AmazonS3Client(config); // the SDK's default chain: profile, web identity, container or instance role
        string[] secrets = [options.S3AccessKey ?? "", options.S3SecretKey ?? "", options.S3SessionToken ?? ""];
        return new S3BlobStore(client, location, endpoint, secrets.Where(s => s.Length > 0).ToArray(), options.S3RequestTimeout);

        AWSCredentials Credentials(string id, string secret) => options.S3SessionToken is { Length: > 0 } token
            ? new SessionAWSCredentials(id, secret, token)
            : new BasicAWSCredentials(id, secret);
    }

    public async Task PutFileAsync(string key, string localPath, CancellationToken ct)
    {
        var objectKey = _location.ObjectKey(key);
        var size = new FileInfo(localPath).Length;
        if (size <= SinglePutLimit)
            await Call("put", objectKey, () => _s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _location.Bucket, Key = objectKey, FilePath = localPath, UseChunkEncoding = false,
            }, ct), ct);
        else
            await PutMultipartAsync(objectKey, localPath, size, ct);
        File.Delete(localPath);
    }

    private async Task PutMultipartAsync(string objectKey, string localPath, long size, CancellationToken ct)
    {
        var upload = await Call("start multipart upload of", objectKey, () => _s3.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = _location.Bucket, Key = objectKey }, ct), ct);
        try
        {
            var parts = new List<PartETag>();
            for (long position = 0, number = 1; position < size; position += PartSize, number++)
            {
                var part = await Call("upload a part of", objectKey, () => _s3.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _location.Bucket, Key = objectKey, UploadId = upload.UploadId,
                    PartNumber = (int)number, FilePath = localPath, FilePosition = position,
                    PartSize = Math.Min(PartSize, size - position), UseChunkEncoding = false,
                }, ct), ct);
                parts.Add(new PartETag((int)number, part.ETag));
            }
            await Call("complete multipart upload of", objectKey, () => _s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _location.Bucket, Key = objectKey, UploadId = upload.UploadId, PartETags = parts,
            }, ct), ct);
        }
        catch
        {
            // Not with ct: a cancelled upload must still be aborted. Best effort; the failure that got here is the one to report.
            try { await _s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _location.Bucket, Key = objectKey, UploadId = upload.UploadId }); }
            catch (Exception) { }
            throw;
        }
    }

    public async Task<Stream?> OpenReadAsync(string key, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length));
        var objectKey = _location.ObjectKey(key);
        // A zero-length range cannot be said in HTTP; the answer is an empty stream when the object exists.
        if (length == 0) return await SizeAsync(key, ct) is null ? null : new MemoryStream([], writable: false);
        var request = new GetObjectRequest { BucketName = _location.Bucket, Key = objectKey };
        if (offset > 0 || length is not null)
            request.ByteRange = length is { } n ? new ByteRange(offset, offset + n - 1) : new ByteRange($"bytes={offset}-");
        try
        {
            var response = await _s3.GetObjectAsync(request, ct);
            // Disposing it releases the connection. The request's timeout ends with the headers; this bounds each read of the body.
            return new ReadTimeoutStream(response.ResponseStream, _timeout, e => IsFailure(e, default) ? Failure("read", objectKey, e) : null);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" || e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is null or "NotFound")
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // The object exists but starts before offset: nothing left to read, as a file read past its end.
            return new MemoryStream([], writable: false);
        }
        catch (Exception e) when (IsFailure(e, ct))
        {
            throw Failure("read", objectKey, e);
        }
    }

    public async Task<long?> SizeAsync(string key, CancellationToken ct)
    {
        var objectKey = _location.ObjectKey(key);
        try
        {
            return (await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _location.Bucket, Key = objectKey }, ct)).ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // A HEAD answer has no body, so a missing bucket looks the same; the start-up check rules that out.
            return null;
        }
        catch (Exception e) when (IsFailure(e, ct))
        {
            throw Failure("read the size of", objectKey, e);
        }
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        var objectKey = _location.ObjectKey(key);
        await Call("delete", objectKey, () => _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _location.Bucket, Key = objectKey }, ct), ct);
        return true;
    }

    /// <summary>
    /// Writes, reads back and deletes a small object: proves the bucket exists, the credentials may put, get and delete,
    /// and the server stores bodies as sent (a server that kept aws-chunked framing would fail the comparison here, at
    /// start-up, rather than every digest check later).
    /// </summary>
    public async Task CheckAsync(CancellationToken ct)
    {
        var key = $"slipway-probe/{Guid.NewGuid():N}";
        var content = "slipway blob store probe "u8.ToArray();
        var temp = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(temp, content, ct);
            await PutFileAsync(key, temp, ct);
            await using var stream = await OpenReadAsync(key, ct: ct)
                ?? throw new BlobStoreException($"{Description}: an object just written ({key}) could not be read back");
            using var read = new MemoryStream();
            await stream.CopyToAsync(read, ct);
            if (!read.ToArray().AsSpan().SequenceEqual(content))
                throw new BlobStoreException($"{Description}: an object written and read back ({key}) came back with other bytes " +
                                             $"({read.Length} instead of {content.Length}); the server does not store bodies as sent");
            await DeleteAsync(key, ct);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private async Task<T> Call<T>(string what, string objectKey, Func<Task<T>> request, CancellationToken ct)
    {
        try { return await request(); }
        catch (Exception e) when (IsFailure(e, ct))
        {
            throw Failure(what, objectKey, e);
        }
    }

    /// <summary>What the store reports as its failure: the SDK's and the network's errors, and a timeout (a cancellation the caller did not ask for).</summary>
    private static bool IsFailure(Exception e, CancellationToken ct) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException
        || e is OperationCanceledException && !ct.IsCancellationRequested;

    private BlobStoreException Failure(string what, string objectKey, Exception e)
    {
        var status = e switch
        {
            AmazonServiceException s => $"{(s.StatusCode == 0 ? "no answer" : $"HTTP {(int)s.StatusCode}")}{(s.ErrorCode is { } code ? " " + code : "")}: {s.Message}",
            DownloadStalledException stalled => $"{stalled.Message} (SLIPWAY_S3_TIMEOUT_SECONDS)",
            OperationCanceledException or TimeoutException => $"no answer within {_timeout.TotalSeconds:0.#} s (SLIPWAY_S3_TIMEOUT_SECONDS) at each of the SDK's attempts",
            _ => e.Message,
        };
        // The SDK's messages hold no credentials today; this keeps it so should one ever quote a request.
        foreach (var secret in _secrets) status = status.Replace(secret, "***", StringComparison.Ordinal);
        var inner = _secrets.Any(secret => e.ToString().Contains(secret, StringComparison.Ordinal)) ? null : e;
        return new BlobStoreException($"could not {what} s3://{_location.Bucket}/{objectKey} ({Description}): {status}", inner);
    }

    public void Dispose() => _s3.Dispose();
}
