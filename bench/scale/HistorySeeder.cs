using System.Diagnostics;
using Npgsql;

namespace Slipway.Bench.Scale;

/// <summary>
/// Writes a year of history straight into a migrated database, project by project: builds with their stages and jobs,
/// releases, deployments over dev → staging → production with their runs, work items with links, change requests with
/// reviews. The rows look like the server's own (same columns, states, numbering, finished timestamps), so the pages
/// and queries measured afterwards see what a busy installation would show. Ids are taken above whatever the server
/// wrote while migrating and the identity sequences moved past them at the end, so the server's later inserts never collide.
/// Deterministic (fixed seed): two runs of the bench seed the same history.
/// </summary>
public sealed class HistorySeeder(NpgsqlConnection connection, HistoryShape shape, string repoUrl, string headSha, string pipelineYaml)
{
    private const long Day = 86_400_000;
    private static readonly string[] IdTables =
        ["projects", "runs", "stages", "jobs", "environments", "releases", "deployments", "deployment_approvals", "work_items",
         "work_item_links", "change_requests", "change_request_reviews"];

    // The nested ProjectHistory reads these (a primary constructor's parameters are not members).
    private readonly NpgsqlConnection _connection = connection;
    private readonly HistoryShape _shape = shape;
    private readonly string _repoUrl = repoUrl, _headSha = headSha, _pipelineYaml = pipelineYaml;
    private readonly Random _random = new(15);
    private readonly Dictionary<string, long> _next = new();
    private readonly long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly string _spec = """{"script":"make build test","env":{},"artifacts":[],"reports":[],"timeoutSeconds":3600,"secrets":null,"rollout":null,"metrics":null}""";

    public async Task SeedAsync()
    {
        foreach (var table in IdTables)
            _next[table] = await Scalar($"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        var watch = Stopwatch.StartNew();
        for (var p = 0; p < _shape.Projects; p++)
        {
            await new ProjectHistory(this, p).WriteAsync();
            if ((p + 1) % 5 == 0 || p + 1 == _shape.Projects)
                Console.WriteLine($"  seeded {p + 1}/{_shape.Projects} projects ({watch.Elapsed.TotalSeconds:F0} s)");
        }
        // The server takes ids from the identity sequences: move each past the ids written here.
        foreach (var table in IdTables)
            await Execute($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
    }

    private long Take(string table) => _next[table]++;
    private string Sha() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + _random.Next().ToString("x8");
    private long Start => _now - 365 * Day;

    private async Task<long> Scalar(string sql)
    {
        await using var command = new NpgsqlCommand(sql, _connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    private async Task Execute(string sql)
    {
        await using var command = new NpgsqlCommand(sql, _connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Letters(int index) => index < 26 ? ((char)('A' + index)).ToString() : Letters(index / 26 - 1) + (char)('A' + index % 26);

    /// <summary>One project's rows, gathered then copied table by table in foreign-key order.</summary>
    private sealed class ProjectHistory(HistorySeeder s, int index)
    {
        private readonly Copy _projects = new("projects", "id", "name", "repo_url", "default_branch", "webhook_secret", "next_run_number", "created_at",
            "item_key_prefix", "next_item_number", "next_cr_number", "next_deployment_number");
        private readonly Copy _branches = new("branches", "project_id", "name", "head", "updated_at");
        private readonly Copy _runs = new("runs", "id", "project_id", "number", "branch", "commit_sha", "commit_message", "trigger", "status",
            "failure_reason", "created_at", "started_at", "finished_at", "release_version", "deployment_id");
        private readonly Copy _stages = new("stages", "id", "run_id", "idx", "name", "status", "started_at", "finished_at");
        private readonly Copy _jobs = new("jobs", "id", "run_id", "stage_idx", "name", "status", "pool", "labels", "spec", "retries_left", "attempt",
            "exit_code", "failure_reason", "failure_kind", "log_bytes", "created_at", "queued_at", "started_at", "finished_at");
        private readonly Copy _environments = new("environments", "id", "project_id", "name", "position", "optional", "pool", "deployers",
            "required_approvals", "approver_role", "auto_deploy", "queue_policy", "updated_at", "updated_by");
        private readonly Copy _releases = new("releases", "id", "project_id", "version", "run_id", "commit_sha", "branch", "created_at", "created_by",
            "pipeline_snapshot", "notes");
        private readonly Copy _deployments = new("deployments", "id", "project_id", "number", "environment_id", "release_id", "previous_release_id",
            "kind", "state", "initiator", "requested_at", "queued_at", "started_at", "finished_at", "outcome", "run_id");
        private readonly Copy _approvals = new("deployment_approvals", "id", "deployment_id", "approver", "verdict", "comment", "at", "approver_role");
        private readonly Copy _items = new("work_items", "id", "project_id", "number", "title", "description", "kind", "requester", "created_at",
            "updated_at", "updated_by");
        private readonly Copy _links = new("work_item_links", "id", "item_id", "kind", "ref", "run_id", "actor", "at");
        private readonly Copy _releaseItems = new("release_items", "release_id", "item_id");
        private readonly Copy _changeRequests = new("change_requests", "id", "project_id", "number", "title", "description", "source_branch",
            "target_branch", "author", "state", "head_sha", "created_at", "updated_at", "merged_at", "merged_by", "merge_commit", "target_sha",
            "merge_strategy", "closed_at", "closed_by");
        private readonly Copy _itemChangeRequests = new("work_item_change_requests", "item_id", "change_request_id");
        private readonly Copy _reviews = new("change_request_reviews", "id", "change_request_id", "reviewer", "verdict", "comment", "head_sha", "at");

        private readonly long _projectId = s.Take("projects");
        private readonly string _prefix = "S" + Letters(index);
        private readonly List<(long Id, long Number, string Commit, long FinishedAt)> _releasable = [];
        private readonly List<(long Id, long Number, string Commit, long At)>[] _itemRuns =
            Enumerable.Range(0, s._shape.ItemsPerProject + 1).Select(_ => new List<(long, long, string, long)>()).ToArray();

        public async Task WriteAsync()
        {
            var name = $"svc{index + 1:D2}";
            var builds = s._shape.BuildsPerProject;
            _projects.Add(_projectId, name, s._repoUrl, "main", s.Sha(), (long)builds + 1, s.Start - Day, _prefix,
                (long)s._shape.ItemsPerProject + 1, (long)s._shape.ItemsPerProject / 2 + 1, (long)s._shape.DeploymentsPerProject + 1);
            // Only main, at the bench repository's real head: the git poller finds nothing new and starts no run.
            _branches.Add(_projectId, "main", s._headSha, s._now - Day);
            for (var number = 1; number <= builds; number++) AddBuild(number, builds);
            var releases = AddReleases();
            AddDeployments(releases);
            AddWork(releases);
            foreach (var copy in new[] { _projects, _branches, _runs, _stages, _jobs, _environments, _releases, _deployments, _approvals, _items,
                         _links, _releaseItems, _changeRequests, _itemChangeRequests, _reviews })
                await copy.WriteAsync(s._connection);
        }

        private void AddBuild(long number, int builds)
        {
            var r = s._random;
            var runId = s.Take("runs");
            var createdAt = s.Start + number * (365 * Day / builds) + r.Next(0, 600_000);
            var item = r.Next(1, s._shape.ItemsPerProject + 1);
            var onMain = r.NextDouble() < 0.7;
            var branch = onMain ? "main" : $"feature/{_prefix}-{item}";
            var roll = r.NextDouble();
            var status = roll < 0.85 ? "succeeded" : roll < 0.97 ? "failed" : "cancelled";
            var commit = s.Sha();
            var started = createdAt + r.Next(200, 3000);
            var finished = started + r.Next(30_000, 600_000);
            _runs.Add(runId, _projectId, number, branch, commit, $"{_prefix}-{item} change number {number}", "push", status,
                status == "failed" ? "job test failed" : null, createdAt, started, finished, null, null);
            var jobCount = r.Next(1, 4);
            var stageCount = jobCount == 1 ? 1 : 2;
            for (var stage = 0; stage < stageCount; stage++)
            {
                var last = stage == stageCount - 1;
                var stageStatus = last ? status : "succeeded";
                AddStage(runId, stage, stage == 0 ? "build" : "test", stageStatus, started, finished);
                var jobsHere = stageCount == 1 ? jobCount : stage == 0 ? 1 : jobCount - 1;
                for (var j = 0; j < jobsHere; j++)
                    AddJob(runId, stage, $"{(stage == 0 ? "build" : "test")}-{j + 1}", last && j == jobsHere - 1 ? status : "succeeded", "default",
                        createdAt, started, finished);
            }
            if (onMain && status == "succeeded") _releasable.Add((runId, number, commit, finished));
            else if (!onMain) _itemRuns[item].Add((runId, number, commit, createdAt));
        }

        private void AddStage(long runId, int idx, string name, string status, long started, long finished) =>
            _stages.Add(s.Take("stages"), runId, (long)idx, name, status, started, finished);

        private void AddJob(long runId, int stage, string name, string status, string pool, long created, long started, long finished)
        {
            var failed = status == "failed";
            _jobs.Add(s.Take("jobs"), runId, (long)stage, name, status, pool, "", s._spec, 0L, 1L, status == "succeeded" ? 0L : failed ? 1L : null,
                failed ? "step exited with 1" : status == "cancelled" ? "cancelled" : null, failed ? "step" : status == "cancelled" ? "cancelled" : null,
                (long)s._random.Next(500, 200_000), created, created, started, finished);
        }

        /// <summary>Releases spread evenly over the green main builds; the run notes its version like the server's would.</summary>
        private List<(long Id, string Version, string Commit, long At)> AddReleases()
        {
            var list = new List<(long, string, string, long)>();
            var wanted = Math.Min(s._shape.ReleasesPerProject, _releasable.Count);
            for (var i = 0; i < wanted; i++)
            {
                var run = _releasable[(int)((long)i * _releasable.Count / wanted)];
                var id = s.Take("releases");
                var version = $"1.0.{run.Number}";
                _releases.Add(id, _projectId, version, run.Id, run.Commit, "main", run.FinishedAt + 1000, null, s._pipelineYaml, "");
                list.Add((id, version, run.Commit, run.FinishedAt + 1000));
            }
            return list;
        }

        private void AddDeployments(List<(long Id, string Version, string Commit, long At)> releases)
        {
            var environments = HistoryShape.Environments.Select((name, position) =>
            {
                var id = s.Take("environments");
                _environments.Add(id, _projectId, name, position, false, "deploy", "[]", name == "production" ? 1 : 0,
                    name == "production" ? "admin" : null, name == "dev", "oldest-first", s.Start, "admin");
                return (Id: id, Name: name);
            }).ToList();
            var current = new long?[environments.Count];
            var number = 0L;
            var deploymentsWanted = s._shape.DeploymentsPerProject;
            for (var i = 0; i < releases.Count && number < deploymentsWanted; i++)
            {
                var release = releases[i];
                // dev gets every release, staging 3 of 5, production 2 of 5: two deployments per release.
                for (var e = 0; e < environments.Count && number < deploymentsWanted; e++)
                {
                    if (e == 1 && i % 5 >= 3 || e == 2 && i % 5 >= 2) continue;
                    var requested = Math.Min(release.At + (e == 0 ? 300_000 : e * Day), s._now - 60_000);
                    var ok = s._random.NextDouble() < 0.95;
                    var state = ok ? "succeeded" : "failed";
                    var id = s.Take("deployments");
                    var runId = s.Take("runs");
                    var started = requested + 2000;
                    var finished = started + s._random.Next(20_000, 300_000);
                    number++;
                    _deployments.Add(id, _projectId, number, environments[e].Id, release.Id, current[e], e == 0 ? "auto" : "promote", state,
                        e == 0 ? "auto" : "admin", requested, requested + 1000, started, finished, ok ? null : "step exited with 1", runId);
                    if (e == 2) _approvals.Add(s.Take("deployment_approvals"), id, "admin", "approve", "looks good", requested + 500, "admin");
                    _runs.Add(runId, _projectId, null, "main", release.Commit, $"deploy {release.Version} to {environments[e].Name}",
                        $"deployment #{number} to {environments[e].Name}", state, ok ? null : "job deploy failed", requested + 1000, started, finished,
                        null, id);
                    AddStage(runId, 0, "deploy", state, started, finished);
                    AddJob(runId, 0, "deploy", state, "deploy", requested + 1000, started, finished);
                    if (ok) current[e] = release.Id;
                }
            }
        }

        /// <summary>Work items, each named by the builds of its feature branch, most released; half with a change request.</summary>
        private void AddWork(List<(long Id, string Version, string Commit, long At)> releases)
        {
            var count = s._shape.ItemsPerProject;
            for (var n = 1; n <= count; n++)
            {
                var id = s.Take("work_items");
                var created = s.Start + n * (365 * Day / count) - 2 * Day;
                var kind = (n % 3) switch { 0 => "bug", 1 => "feature", _ => "chore" };
                _items.Add(id, _projectId, (long)n, $"Item {n} of {_prefix}: make something better", "What, why and how to check it.", kind,
                    "analyst", created, created, "analyst");
                var runs = _itemRuns[n];
                if (runs.Count > 0)
                {
                    _links.Add(s.Take("work_item_links"), id, "branch", $"feature/{_prefix}-{n}", null, "dev", runs[0].At);
                    foreach (var run in runs.Take(3))
                    {
                        _links.Add(s.Take("work_item_links"), id, "commit", run.Commit, null, "dev", run.At);
                        _links.Add(s.Take("work_item_links"), id, "run", run.Number.ToString(), run.Id, "dev", run.At);
                    }
                }
                if (releases.Count > 0 && n % 5 != 0)
                    _releaseItems.Add(releases[(int)((long)(n - 1) * releases.Count / count)].Id, id);
                if (n % 2 == 0) AddChangeRequest(id, n / 2, n, created);
            }
        }

        private void AddChangeRequest(long itemId, long number, int item, long created)
        {
            var id = s.Take("change_requests");
            var head = s.Sha();
            var roll = number % 10;
            var state = roll < 8 ? "merged" : roll < 9 ? "open" : "closed";
            var closedAt = created + Day;
            _changeRequests.Add(id, _projectId, number, $"{_prefix}-{item}: the change", "Implements the item.", $"feature/{_prefix}-{item}", "main",
                "dev", state, head, created, closedAt,
                state == "merged" ? closedAt : null, state == "merged" ? "dev" : null, state == "merged" ? s.Sha() : null,
                state == "merged" ? s.Sha() : null, state == "merged" ? "merge" : null,
                state == "closed" ? closedAt : null, state == "closed" ? "dev" : null);
            _itemChangeRequests.Add(itemId, id);
            _reviews.Add(s.Take("change_request_reviews"), id, "reviewer", "approve", "fine", head, created + Day / 2);
        }
    }
}
