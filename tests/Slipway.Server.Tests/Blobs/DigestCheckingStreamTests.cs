using System.Security.Cryptography;

namespace Slipway.Server.Tests.Blobs;

public sealed class DigestCheckingStreamTests
{
    private static readonly byte[] Content = RandomNumberGenerator.GetBytes(10_000);
    private static readonly string Sha = Convert.ToHexStringLower(SHA256.HashData(Content));

    [Fact]
    public async Task ZeroByteReadsMidway_AreNotTheEnd()
    {
        await using var stream = new DigestCheckingStream(new MemoryStream(Content), Sha);
        var buffer = new byte[4096];
        var read = 0;
        while (true)
        {
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
            Assert.Equal(0, stream.Read(Span<byte>.Empty));
            var n = await stream.ReadAsync(buffer);
            if (n == 0) break;
            read += n;
        }
        Assert.Equal(Content.Length, read);
    }

    [Fact]
    public async Task OtherContent_ThrowsAtTheEnd_NamingBothDigests()
    {
        var other = (byte[])Content.Clone();
        other[^1] ^= 1;
        await using var stream = new DigestCheckingStream(new MemoryStream(other), Sha);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains(Sha, error.Message);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(other)), error.Message);
    }
}
