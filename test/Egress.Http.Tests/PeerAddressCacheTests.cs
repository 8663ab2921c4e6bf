using System.Globalization;
using System.Net;
using CsCheck;
using Egress.Http.Guard;

namespace Egress.Http.Tests;

/// <summary>
/// The guard's per-thread peer address cache: it must answer exactly as <see cref="IPAddress.TryParse(string, out IPAddress)"/>,
/// stay bounded, never share a slot between threads, and never serve an instance someone mutated.
/// </summary>
public sealed class PeerAddressCacheTests
{
    private static readonly Gen<string> Peer = Gen.OneOf(
        Gen.Byte.Array[4].Select(b => string.Join('.', b)),
        Gen.UShort.Array[8].Select(p => string.Join(':', p.Select(x => x.ToString("x", CultureInfo.InvariantCulture)))),
        Gen.UShort.Array[2].Select(p => $"::ffff:{p[0]:x}:{p[1]:x}"),
        Gen.Int[1, 9].Select(scope => $"fe80::1%{scope}"),
        Gen.String[Gen.Char["0123456789.:abcdefx%"], 0, 20]);

    [Fact]
    public void Answers_AsIPAddressTryParse_OnAMissAndOnAHit()
    {
        Peer.Sample(text =>
        {
            bool expected = IPAddress.TryParse(text, out var fresh);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(expected, PeerAddressCache.TryParse(text, out var cached));
                Assert.Equal(fresh, cached); // IPv6 equality includes the scope id
                Assert.Equal(fresh?.ToString(), cached?.ToString());
            }
        });
    }

    [Fact]
    public void Hits_ReturnTheSameInstance_AndTheCacheIsBounded()
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Assert.True(PeerAddressCache.TryParse("127.0.0.9", out var first));
                Assert.True(PeerAddressCache.TryParse("127.0.0.9", out var again));
                Assert.Same(first, again);

                // More distinct peers than slots: the first is evicted, so it is parsed again (a new instance).
                for (int i = 0; i < PeerAddressCache.Slots * 4; i++)
                {
                    Assert.True(PeerAddressCache.TryParse($"127.1.0.{i}", out _));
                }

                Assert.True(PeerAddressCache.TryParse("127.0.0.9", out var afterEviction));
                Assert.NotSame(first, afterEviction);
                Assert.Equal(first, afterEviction);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start(); // its own thread, so the slots start empty
        thread.Join();
        Assert.Null(failure);
    }

    [Fact]
    public void AMalformedPeer_IsNotCached_AndEvictsNothing()
    {
        Assert.True(PeerAddressCache.TryParse("127.0.0.10", out var first));
        for (int i = 0; i < PeerAddressCache.Slots * 2; i++)
        {
            Assert.False(PeerAddressCache.TryParse($"not-an-address-{i}", out var none));
            Assert.Null(none);
        }

        Assert.True(PeerAddressCache.TryParse("127.0.0.10", out var again));
        Assert.Same(first, again);
    }

    [Fact]
    public void AMutatedInstance_IsNeverServed()
    {
        Assert.True(PeerAddressCache.TryParse("fe80::1%3", out var first));
        Assert.Equal(3, first!.ScopeId);
        first.ScopeId = 7; // a consumer of a decision or event changes the shared instance

        Assert.True(PeerAddressCache.TryParse("fe80::1%3", out var again));
        Assert.NotSame(first, again);
        Assert.Equal(3, again!.ScopeId);
        Assert.Equal(IPAddress.Parse("fe80::1%3"), again);
    }

    [Fact]
    public void ManyThreads_EachGetTheirOwnPeersRight()
    {
        string[] peers = [.. Enumerable.Range(0, 16).Select(i => $"127.0.{i}.{255 - i}"), "::1", "::ffff:127.0.0.1", "fe80::2%1"];
        var expected = peers.Select(IPAddress.Parse).ToArray();
        int failures = 0;
        Parallel.For(
            0,
            8,
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            worker =>
            {
                for (int i = 0; i < 5_000; i++)
                {
                    int k = (i * (worker + 3)) % peers.Length;
                    if (!PeerAddressCache.TryParse(peers[k], out var address) || !expected[k].Equals(address) || address!.ToString() != expected[k].ToString())
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            });

        Assert.Equal(0, failures);
    }
}
