namespace Slipway.Testing;

/// <summary>Finds the repository root and the built <c>slipway</c> program for tests that start it as a real process.</summary>
public static class RepositoryLayout
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Slipway.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find Slipway.slnx above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>slipway.dll built with the same configuration as the running tests.</summary>
    public static string SlipwayDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var path = Path.Combine(Root, "src", "Slipway.Cli", "bin", configuration, "net10.0", "slipway.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("build src/Slipway.Cli first", path);
        }
    }
}
