using System.Globalization;

namespace Egress.Isolation.Tests;

/// <summary>UDP other than DNS, ICMP and raw sockets from a namespace the test made: dropped, UDP recorded.</summary>
[Collection(DnsNamespaceGroup.Name)]
public sealed class UdpNamespaceTests
{
    [Fact]
    public async Task PythonDatagram_DenyEventWithHostAndPortAndNothingArrives()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("127.0.0.1");
        using var counting = new UdpCountingListener();
        string port = counting.Port.ToString(CultureInfo.InvariantCulture);

        var result = await ns.RunInsideAsync("python3", "-c",
            $"import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ntry:\n  s.sendto(b'secret',('127.0.0.1',{port}))\nexcept OSError as e:\n  print('send failed', e.errno)\n");

        Assert.Equal(0, result.ExitCode);
        var events = await ns.WaitForEventsAsync(e => e is { Action: "DENY", Source: "udp", Host: "127.0.0.1" } && e.Port == counting.Port);
        Assert.NotEmpty(events);
        Assert.Contains("UDP is not allowed", events[0].Reason, StringComparison.Ordinal);
        Assert.Equal(Egress.Policy.EgressOutcome.ProtocolNotAllowed, events[0].Outcome);
        Assert.Equal(0, counting.Count);
    }

    [Theory]
    [InlineData("AF_INET", "192.0.2.9", 4444, "192.0.2.9")]
    [InlineData("AF_INET6", "2001:db8::9", 4445, "[2001:db8::9]")]
    public async Task PythonDatagramToAnyAddress_RecordedWithThatAddress(string family, string address, int port, string shown)
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");

        await ns.RunInsideAsync("python3", "-c",
            $"import socket\ns=socket.socket(socket.{family},socket.SOCK_DGRAM)\ntry:\n  s.sendto(b'x',('{address}',{port}))\nexcept OSError:\n  pass\n");

        Assert.NotEmpty(await ns.WaitForEventsAsync(e => e is { Action: "DENY", Source: "udp" } && e.Host == shown && e.Port == port));
    }

    [Fact]
    public async Task DatagramFlood_EventsBoundedEveryDatagramCounted()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");

        await ns.RunInsideAsync("python3", "-c",
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(3000):\n  try:\n    s.sendto(b'x',('192.0.2.7',1000+i%50))\n  except OSError:\n    pass\n");

        for (int i = 0; i < 100 && ns.Udp.Dropped + ns.Udp.Lost < 3000 && ns.Udp.Lost == 0; i++)
        {
            await Task.Delay(50);
        }

        int recorded = ns.Events.Count(e => e.Source == "udp");
        Assert.InRange(recorded, 1, 1100); // burst 1000, then 100 a second
        Assert.True(ns.Udp.Dropped == 3000 || ns.Udp.Lost > 0, $"dropped {ns.Udp.Dropped}, lost {ns.Udp.Lost}");
        Assert.Equal(ns.Udp.Dropped - recorded, ns.Udp.SuppressedEvents);
    }

    [Fact]
    public async Task IcmpAndRawSockets_OnlyLoopbackExistsAndNothingArrivesOutside()
    {
        await using var ns = await DnsNamespaceHarness.StartAsync("allowed.example");
        string marker = "egress-probe-" + Guid.NewGuid().ToString("N");

        // Outside: a raw ICMP socket on this host's network namespace sees every echo request sent to its loopback.
        using var outside = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3")
        {
            ArgumentList =
            {
                "-c",
                $"import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)\ns.settimeout(0.2)\nn=0\nend=time.time()+4\nwhile time.time()<end:\n  try:\n    d=s.recv(65536)\n    n+=d.count(b'{marker}')\n  except socket.timeout:\n    pass\nprint(n)\n",
            },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        await Task.Delay(300);

        var inside = await ns.RunInsideAsync("python3", "-c",
            "import socket,struct\n"
            + "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))\n"
            + "def csum(b):\n  b=b+bytes(len(b)%2)\n  s=sum(struct.unpack('!%dH'%(len(b)//2),b))\n  s=(s>>16)+(s&0xffff)\n  return ~(s+(s>>16))&0xffff\n"
            + $"p=b'{marker}'\nh=struct.pack('!BBHHH',8,0,0,1,1)\nh=struct.pack('!BBHHH',8,0,csum(h+p),1,1)\n"
            + "r=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)\n"
            + "for a in ('127.0.0.1','192.0.2.1','198.18.0.1'):\n  try:\n    r.sendto(h+p,(a,0))\n  except OSError:\n    pass\n"
            + "raw=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_RAW)\n"
            + "ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(h+p),0,0,64,1,0,socket.inet_aton('127.0.0.1'),socket.inet_aton('127.0.0.1'))\n"
            + "try:\n  raw.sendto(ip+h+p,('127.0.0.1',0))\nexcept OSError:\n  pass\n");
        string seen = (await outside.StandardOutput.ReadToEndAsync()).Trim();
        await outside.WaitForExitAsync();

        Assert.Equal(0, inside.ExitCode);
        Assert.Equal("['lo']", inside.StdOut.Trim());
        Assert.Equal("0", seen);
    }
}
