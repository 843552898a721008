namespace Slipway.Core.Tests.Gates;

/// <summary>Realistic (trimmed) outputs of the load tools the parser reads.</summary>
internal static class MetricSamples
{
    /// <summary>k6 handleSummary: <c>export function handleSummary(data) { return { 'summary.json': JSON.stringify(data) }; }</c></summary>
    public const string K6HandleSummary = """
        {
          "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": [], "checks": []},
          "options": {"summaryTrendStats": ["avg","min","med","max","p(90)","p(95)"], "summaryTimeUnit": "", "noColor": false},
          "state": {"isStdOutTTY": false, "isStdErrTTY": false, "testRunDurationMs": 30012.4},
          "metrics": {
            "http_req_duration": {"type": "trend", "contains": "time",
              "values": {"avg": 120.5, "min": 80.1, "med": 110.2, "max": 980.7, "p(90)": 180.3, "p(95)": 212.4},
              "thresholds": {"p(95)<300": {"ok": true}}},
            "http_reqs": {"type": "counter", "contains": "default", "values": {"count": 1500, "rate": 49.98}},
            "http_req_failed": {"type": "rate", "contains": "default", "values": {"rate": 0.004, "passes": 6, "fails": 1494}},
            "checks": {"type": "rate", "contains": "default", "values": {"rate": 0.995, "passes": 1493, "fails": 7}},
            "vus": {"type": "gauge", "contains": "default", "values": {"value": 10, "min": 10, "max": 10}},
            "data_received": {"type": "counter", "contains": "data", "values": {"count": 3000000, "rate": 99960}},
            "checkout_time": {"type": "trend", "contains": "time", "values": {"avg": 300, "min": 200, "med": 290, "max": 800, "p(90)": 400, "p(95)": 450, "p(99.9)": 790}}
          }
        }
        """;

    /// <summary>k6 <c>--summary-export=summary.json</c> (the legacy export).</summary>
    public const string K6SummaryExport = """
        {
          "root_group": {"name": "", "path": "", "id": "d41d8cd98f00b204e9800998ecf8427e", "groups": {}, "checks": {}},
          "metrics": {
            "http_req_duration": {"avg": 98.2, "min": 50, "med": 90.5, "max": 400, "p(90)": 150, "p(95)": 187.6,
              "thresholds": {"p(95)<500": false}},
            "http_req_waiting": {"avg": 90, "min": 45, "med": 85, "max": 390, "p(90)": 140, "p(95)": 170},
            "http_reqs": {"count": 2000, "rate": 66.6},
            "http_req_failed": {"passes": 20, "fails": 1980, "value": 0.01},
            "checks": {"passes": 1990, "fails": 10, "value": 0.995},
            "iterations": {"count": 2000, "rate": 66.6},
            "vus": {"value": 5, "min": 5, "max": 5}
          }
        }
        """;

    /// <summary>Artillery 2.x <c>artillery run --output report.json</c>.</summary>
    public const string ArtilleryV2 = """
        {
          "aggregate": {
            "counters": {
              "http.requests": 1000, "http.codes.200": 980, "http.codes.404": 5, "http.codes.500": 10, "http.codes.503": 3,
              "http.responses": 998, "errors.ETIMEDOUT": 2, "vusers.created": 100, "vusers.completed": 98, "vusers.failed": 2
            },
            "rates": {"http.request_rate": 50},
            "firstCounterAt": 1700000000000, "firstHistogramAt": 1700000000100,
            "lastCounterAt": 1700000020000, "lastHistogramAt": 1700000020000,
            "firstMetricAt": 1700000000000, "lastMetricAt": 1700000020000, "period": "1700000020000",
            "summaries": {
              "http.response_time": {"min": 12, "max": 950, "count": 998, "mean": 63.4, "p50": 55.2, "median": 55.2,
                "p75": 70.1, "p90": 98.5, "p95": 120.3, "p99": 400.1, "p999": 900.2},
              "vusers.session_length": {"min": 120.5, "max": 2000.4, "count": 98, "mean": 600.1, "p50": 550.1, "median": 550.1,
                "p75": 700, "p90": 900, "p95": 1000, "p99": 1900, "p999": 2000}
            },
            "histograms": {}
          },
          "intermediate": [{"counters": {"http.requests": 500}, "summaries": {}}]
        }
        """;

    /// <summary>Artillery 1.x report.</summary>
    public const string ArtilleryV1 = """
        {
          "aggregate": {
            "timestamp": "2021-03-01T10:00:00.000Z",
            "scenariosCreated": 100, "scenariosCompleted": 99, "requestsCompleted": 400,
            "latency": {"min": 10.1, "max": 500.2, "median": 40.5, "p95": 150.4, "p99": 300.9},
            "rps": {"count": 400, "mean": 20.3},
            "scenarioDuration": {"min": 100, "max": 900, "median": 300, "p95": 700, "p99": 850},
            "scenarioCounts": {"Checkout": 100},
            "errors": {"ETIMEDOUT": 1},
            "codes": {"200": 395, "502": 3, "404": 1}
          },
          "intermediate": []
        }
        """;

    /// <summary><c>autocannon --json http://localhost:3000</c>.</summary>
    public const string Autocannon = """
        {
          "title": "checkout", "url": "http://localhost:3000", "socketPath": null, "connections": 10, "sampleInt": 1000,
          "pipelining": 1, "workers": 0, "duration": 10.02, "samples": 10,
          "start": "2024-01-01T10:00:00.000Z", "finish": "2024-01-01T10:00:10.020Z",
          "errors": 2, "timeouts": 1, "mismatches": 0, "non2xx": 7, "resets": 0,
          "1xx": 0, "2xx": 5113, "3xx": 0, "4xx": 2, "5xx": 5,
          "statusCodeStats": {"200": {"count": 5113}, "500": {"count": 5}, "404": {"count": 2}},
          "latency": {"average": 9.4, "mean": 9.4, "stddev": 2.1, "min": 1, "max": 50, "p0_001": 1, "p0_01": 1, "p0_1": 1,
            "p1": 2, "p2_5": 3, "p10": 5, "p25": 7, "p50": 9, "p75": 11, "p90": 12, "p97_5": 20, "p99": 25,
            "p99_9": 45, "p99_99": 50, "p99_999": 50, "totalCount": 5120},
          "requests": {"average": 512, "mean": 512, "stddev": 5, "min": 400, "max": 600, "total": 5120, "sent": 5130,
            "p0_001": 400, "p50": 510, "p97_5": 590, "p99": 598},
          "throughput": {"average": 100000, "mean": 100000, "stddev": 1000, "min": 90000, "max": 110000, "total": 1000000, "p50": 100000}
        }
        """;

    public const string Plain = """
        {"metrics": {
          "checkout_latency": {"p95": 212.4, "p99": 301, "unit": "ms"},
          "queue_depth": {"max": 12}
        }}
        """;
}
