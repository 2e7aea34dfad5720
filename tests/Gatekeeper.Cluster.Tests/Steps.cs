using k8s.Models;
using Gatekeeper.Tests.SimulatedCluster;

namespace Gatekeeper.Cluster.Tests;

/// <summary>Migration files and steps the scenarios share.</summary>
public static class Steps
{
    public static readonly Dictionary<string, string> V1 = new() { ["V1__create_orders.sql"] = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2));\n" };

    public static readonly Dictionary<string, string> V2 = new(V1) { ["V2__add_order_notes.sql"] = "ALTER TABLE orders ADD COLUMN note varchar(200);\n" };

    public static Task<long> TableCount(Scenario scenario, string table) => Count(scenario, scenario.Engine == "postgres"
        ? $"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}' AND table_schema = current_schema()"
        : $"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}' AND table_schema = DATABASE()");

    public static async Task<long> Count(Scenario scenario, string sql) => Convert.ToInt64(await scenario.Database.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Applies v1 with its migration and waits until its pods run: the starting point of most scenarios.</summary>
    public static async Task RolledOutAsync(Scenario scenario, int replicas = 2, V1Deployment? app = null)
    {
        await scenario.PutMigrationsAsync(V1);
        await scenario.ApplyAsync(app ?? scenario.App(replicas: replicas));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == replicas, "v1's pods run");
    }
}
