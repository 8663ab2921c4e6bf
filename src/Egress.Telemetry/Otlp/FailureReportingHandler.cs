namespace Egress.Telemetry.Otlp;

/// <summary>Watches OTLP/HTTP requests and reports failed ones (exception or non-success status) to <see cref="ExportFailureReporter"/>.</summary>
internal sealed class FailureReportingHandler(ExportFailureReporter reporter, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                reporter.Report($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            return response;
        }
        catch (Exception ex)
        {
            reporter.Report(ex.GetBaseException().Message);
            throw;
        }
    }
}
