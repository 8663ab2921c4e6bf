namespace Egress.Telemetry.Otlp;

/// <summary>
/// Watches OTLP/HTTP requests and reports failed ones (exception or non-success status) to
/// <see cref="ExportFailureReporter"/>. The exporter sends synchronously, so both paths are covered.
/// </summary>
internal sealed class FailureReportingHandler(ExportFailureReporter reporter, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return Check(base.Send(request, cancellationToken));
        }
        catch (Exception ex)
        {
            reporter.Report(ex.GetBaseException().Message);
            throw;
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return Check(await base.SendAsync(request, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            reporter.Report(ex.GetBaseException().Message);
            throw;
        }
    }

    private HttpResponseMessage Check(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            reporter.Report($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }

        return response;
    }
}
