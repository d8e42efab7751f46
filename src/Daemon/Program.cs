using SeedDaemon.Daemon.Hosting;

return await SeeddApp.RunAsync(args);
