namespace Slipway.Server.Database;

/// <summary>The two databases Slipway runs on. SQL is written to be valid on both; where it is not,
/// stores branch on this value (and migrations have one script per dialect).</summary>
public enum SqlDialect { Sqlite, Postgres }
