namespace Egress.Policy.Configuration;

/// <summary>OTLP transport used when metrics export is enabled.</summary>
public enum OtlpExporterProtocol
{
    /// <summary>OTLP over HTTP with protobuf payloads.</summary>
    HttpProtobuf,
    /// <summary>OTLP over gRPC.</summary>
    Grpc,
}
