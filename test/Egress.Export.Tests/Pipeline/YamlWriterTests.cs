using CsCheck;
using Egress.Export.Yaml;
using YamlDotNet.RepresentationModel;
using YamlNode = Egress.Export.Yaml.YamlNode;
using YamlMapping = Egress.Export.Yaml.YamlMapping;
using YamlSequence = Egress.Export.Yaml.YamlSequence;

namespace Egress.Export.Tests.Pipeline;

/// <summary>The hand-written YAML writer: what it writes, YamlDotNet reads back to the same values.</summary>
public sealed class YamlWriterTests
{
    [Fact]
    public void AnyString_RoundTripsThroughYamlDotNet()
    {
        Gen.String.Sample(value =>
        {
            var sb = new System.Text.StringBuilder();
            YamlWriter.Write(sb, new YamlMapping().Add(value, new YamlSequence().Add(YamlNode.Str(value)).Add(YamlNode.Number(7))));
            var stream = new YamlStream();
            stream.Load(new StringReader(sb.ToString()));
            var map = (YamlMappingNode)stream.Documents[0].RootNode;
            var (key, seq) = Assert.Single(map.Children);
            Assert.Equal(value, ((YamlScalarNode)key).Value);
            Assert.Equal(value, ((YamlScalarNode)((YamlSequenceNode)seq).Children[0]).Value);
        }, iter: 2000);
    }

    [Fact]
    public void NestedBlocks_HaveTheExpectedShape()
    {
        var sb = new System.Text.StringBuilder();
        YamlWriter.Write(sb, new YamlMapping()
            .Add("a", new YamlSequence().Add(new YamlMapping().Add("b", "c").Add("d", new YamlSequence().Add(YamlNode.Bool(true)))))
            .Add("e", new YamlMapping()));
        Assert.Equal("\"a\":\n- \"b\": \"c\"\n  \"d\":\n  - true\n\"e\": {}\n", sb.ToString());
    }
}
