using System.Text.Json;
using System.Text.RegularExpressions;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Export.Tests.Deploy;

/// <summary>
/// deploy/kubernetes/: every object valid against the official schema of its kind, and the properties
/// the gateway depends on (replicas, probes, limits, non-root, read-only root, the policy volume, the
/// NetworkPolicy that forces workload egress through the gateway) checked by reading the objects.
/// The Containerfile is checked statically (no container runtime runs here).
/// </summary>
public sealed partial class DeployManifestTests
{
    private static readonly Dictionary<string, string> SchemaByKind = new(StringComparer.Ordinal)
    {
        ["Deployment"] = "k8s-deployment.schema.json",
        ["Service"] = "k8s-service.schema.json",
        ["ConfigMap"] = "k8s-configmap.schema.json",
        ["HorizontalPodAutoscaler"] = "k8s-horizontalpodautoscaler.schema.json",
        ["PodDisruptionBudget"] = "k8s-poddisruptionbudget.schema.json",
        ["NetworkPolicy"] = "k8s-networkpolicy-v1.schema.json",
    };

    private static string Root { get; } = FindRoot();

    private static List<JsonElement> Objects { get; } = [.. Directory.GetFiles(Path.Combine(Root, "deploy", "kubernetes"), "*.yaml").Order(StringComparer.Ordinal).SelectMany(f => YamlJson.Documents(File.ReadAllText(f)))];

    [Fact]
    public void EveryObject_IsValidAgainstTheOfficialSchemaOfItsKind()
    {
        Assert.True(Objects.Count >= 7);
        foreach (var o in Objects)
        {
            string kind = o.GetProperty("kind").GetString()!;
            Assert.True(SchemaByKind.TryGetValue(kind, out var schema), $"no schema for kind {kind}");
            OfficialSchemas.AssertValid(schema, o);
        }

        foreach (var kind in SchemaByKind.Keys)
        {
            Assert.Contains(Objects, o => o.GetProperty("kind").GetString() == kind);
        }
    }

    [Fact]
    public void Deployment_IsHighlyAvailable_Probed_Limited_NonRoot_ReadOnly()
    {
        var deployment = Kind("Deployment");
        var spec = deployment.GetProperty("spec");
        Assert.True(spec.GetProperty("replicas").GetInt32() >= 2);
        var pod = spec.GetProperty("template").GetProperty("spec");
        Assert.True(pod.GetProperty("securityContext").GetProperty("runAsNonRoot").GetBoolean());
        Assert.NotEqual(0, pod.GetProperty("securityContext").GetProperty("runAsUser").GetInt32());
        Assert.False(pod.GetProperty("automountServiceAccountToken").GetBoolean());
        var container = Assert.Single(pod.GetProperty("containers").EnumerateArray());
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var get = container.GetProperty(probe).GetProperty("httpGet");
            Assert.Equal("/healthz", get.GetProperty("path").GetString());
            Assert.Equal("proxy", get.GetProperty("port").GetString());
        }

        var limits = container.GetProperty("resources").GetProperty("limits");
        Assert.True(limits.TryGetProperty("cpu", out _) && limits.TryGetProperty("memory", out _));
        var security = container.GetProperty("securityContext");
        Assert.True(security.GetProperty("readOnlyRootFilesystem").GetBoolean());
        Assert.False(security.GetProperty("allowPrivilegeEscalation").GetBoolean());
        Assert.Equal(["ALL"], security.GetProperty("capabilities").GetProperty("drop").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(container.GetProperty("ports").EnumerateArray(), p => p.GetProperty("name").GetString() == "proxy");
    }

    [Fact]
    public void Deployment_EnforcesTheConfigMapLock_MountedAsAFile()
    {
        var pod = Kind("Deployment").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var container = pod.GetProperty("containers")[0];
        var env = container.GetProperty("env").EnumerateArray().Where(e => e.TryGetProperty("value", out _)).ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString()!);
        Assert.Equal("1", env["EGRESS_ENFORCE"]);
        Assert.False(env.ContainsKey("EGRESS_ALLOWLIST"), "the lock file is the only source: no second allowlist in the environment");
        string lockPath = env["EGRESS_LOCK_FILE"];
        var mount = Assert.Single(container.GetProperty("volumeMounts").EnumerateArray(), m => lockPath.StartsWith(m.GetProperty("mountPath").GetString()! + "/", StringComparison.Ordinal));
        Assert.True(mount.GetProperty("readOnly").GetBoolean());
        var volume = Assert.Single(pod.GetProperty("volumes").EnumerateArray(), v => v.GetProperty("name").GetString() == mount.GetProperty("name").GetString());
        // A volume, not subPath or env: the kubelet refreshes it in place when the ConfigMap changes.
        Assert.False(mount.TryGetProperty("subPath", out _));
        string configMapName = volume.GetProperty("configMap").GetProperty("name").GetString()!;
        var configMap = Assert.Single(Objects, o => o.GetProperty("kind").GetString() == "ConfigMap" && o.GetProperty("metadata").GetProperty("name").GetString() == configMapName);
        string lockText = configMap.GetProperty("data").GetProperty(Path.GetFileName(lockPath)).GetString()!;
        var tokens = LockFile.Parse(lockText);
        Assert.NotEmpty(tokens);
        Assert.All(tokens, t => Assert.True(EgressToken.TryParse(t, out _, out var error), error));
        Assert.True(container.GetProperty("args").EnumerateArray().Select(a => a.GetString()).SequenceEqual(GatewayArgs(lockPath)),
            "the gateway enforces the lock file: " + string.Join(' ', container.GetProperty("args").EnumerateArray()));
    }

    [Fact]
    public void ServiceHpaAndPdb_SelectTheGatewayPods()
    {
        var labels = Kind("Deployment").GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels");
        bool Selects(JsonElement matchLabels) => matchLabels.EnumerateObject().All(p => labels.TryGetProperty(p.Name, out var v) && v.GetString() == p.Value.GetString());
        Assert.True(Selects(Kind("Service").GetProperty("spec").GetProperty("selector")));
        Assert.True(Selects(Kind("PodDisruptionBudget").GetProperty("spec").GetProperty("selector").GetProperty("matchLabels")));
        Assert.True(Kind("PodDisruptionBudget").GetProperty("spec").GetProperty("minAvailable").GetInt32() >= 1);
        var hpa = Kind("HorizontalPodAutoscaler").GetProperty("spec");
        Assert.Equal("egress-gateway", hpa.GetProperty("scaleTargetRef").GetProperty("name").GetString());
        Assert.True(hpa.GetProperty("minReplicas").GetInt32() >= 2);
        var portNames = Kind("Deployment").GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers")[0].GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToHashSet();
        Assert.All(Kind("Service").GetProperty("spec").GetProperty("ports").EnumerateArray(), p => Assert.Contains(p.GetProperty("targetPort").GetString(), portNames));
    }

    [Fact]
    public void WorkloadNetworkPolicy_AllowsOnlyTheGatewayAndDns()
    {
        var np = Assert.Single(Objects, o => o.GetProperty("kind").GetString() == "NetworkPolicy" && o.GetProperty("spec").GetProperty("policyTypes").EnumerateArray().Any(t => t.GetString() == "Egress"));
        var spec = np.GetProperty("spec");
        Assert.Equal(["Egress"], spec.GetProperty("policyTypes").EnumerateArray().Select(t => t.GetString()));
        var rules = spec.GetProperty("egress").EnumerateArray().ToList();
        Assert.Equal(2, rules.Count);
        var deployment = Kind("Deployment");
        string gatewayNamespace = deployment.GetProperty("metadata").GetProperty("namespace").GetString()!;
        var gateway = Assert.Single(rules, r => r.GetProperty("ports").EnumerateArray().Any(p => p.GetProperty("port").GetInt32() == 3128));
        var to = Assert.Single(gateway.GetProperty("to").EnumerateArray());
        Assert.Equal(gatewayNamespace, to.GetProperty("namespaceSelector").GetProperty("matchLabels").GetProperty("kubernetes.io/metadata.name").GetString());
        Assert.Equal("egress-gateway", to.GetProperty("podSelector").GetProperty("matchLabels").GetProperty("app.kubernetes.io/name").GetString());
        var dns = rules.Single(r => r.GetProperty("ports").EnumerateArray().All(p => p.GetProperty("port").GetInt32() == 53));
        Assert.Equal("kube-dns", dns.GetProperty("to")[0].GetProperty("podSelector").GetProperty("matchLabels").GetProperty("k8s-app").GetString());
        // No ipBlock anywhere: nothing but the gateway and DNS is reachable.
        Assert.DoesNotContain("ipBlock", np.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Containerfile_BuildsTheAotBinary_OnADistrolessNonRootBase()
    {
        var lines = File.ReadAllLines(Path.Combine(Root, "Containerfile")).Where(l => !l.TrimStart().StartsWith('#')).ToList();
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Contains("runtime-deps", froms[^1], StringComparison.Ordinal);
        Assert.Contains("chiseled", froms[^1], StringComparison.Ordinal);
        string text = string.Join('\n', lines);
        Assert.Contains("-p:PublishAot=true", text, StringComparison.Ordinal);
        var user = Assert.Single(lines, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.Matches(UserLine(), user);
        int uid = int.Parse(UserLine().Match(user).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0, uid);
        Assert.Equal(Kind("Deployment").GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("securityContext").GetProperty("runAsUser").GetInt32(), uid);
        Assert.Contains("ENTRYPOINT [\"/app/egress-policy\"]", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("ADD ", StringComparison.Ordinal));
        // The runtime stage copies only the binary out of the build stage.
        int runtime = lines.IndexOf(froms[^1]);
        Assert.All(lines.Skip(runtime).Where(l => l.StartsWith("COPY", StringComparison.Ordinal)), l => Assert.Contains("--from=build", l, StringComparison.Ordinal));
    }

    /// <summary>The arguments the Deployment must give the gateway for <paramref name="lockPath"/>.</summary>
    private static string[] GatewayArgs(string lockPath) => ["proxy", "--listen", "0.0.0.0:3128", "--policy-file", lockPath];

    private static JsonElement Kind(string kind) => Assert.Single(Objects, o => o.GetProperty("kind").GetString() == kind);

    [GeneratedRegex("^USER ([0-9]+):([0-9]+)$")]
    private static partial Regex UserLine();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EgressPolicy.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("EgressPolicy.slnx not found above " + AppContext.BaseDirectory);
    }
}
