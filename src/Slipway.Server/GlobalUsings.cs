// The server's feature namespaces, imported everywhere in the server (and, linked as ServerUsings.cs, in the CLI and the test
// projects): a feature folder uses its neighbours' services, stores and rows without a using line per file.
global using Slipway.Server.Access;
global using Slipway.Server.Access.SignIn;
global using Slipway.Server.Agents;
global using Slipway.Server.Audit;
global using Slipway.Server.Blobs;
global using Slipway.Server.ChangeRequests;
global using Slipway.Server.Checks;
global using Slipway.Server.Database;
global using Slipway.Server.Deployments;
global using Slipway.Server.Environments;
global using Slipway.Server.Targets;
global using Slipway.Server.Gates;
global using Slipway.Server.Git;
global using Slipway.Server.Hosting;
global using Slipway.Server.Nodes;
global using Slipway.Server.Projects;
global using Slipway.Server.Releases;
global using Slipway.Server.Runs;
global using Slipway.Server.Secrets;
global using Slipway.Server.Web;
global using Slipway.Server.WorkItems;
