using SeedDaemon.Bench;

// dotnet run -c Release --project tests/Bench -- daemon [--quick] | derive | burst | scale
var mode = args.FirstOrDefault() ?? "";
var quick = args.Contains("--quick");
switch (mode)
{
    case "daemon":
        await DaemonMode.RunAsync(quick);
        break;
    case "derive":
        DeriveMode.Run(args.Skip(1).Where(a => a != "--quick").ToArray());
        break;
    case "burst":
        await BurstMode.RunAsync();
        break;
    case "scale":
        await ScaleMode.RunAsync(quick ? 200_000 : 1_000_000);
        break;
    default:
        Console.Error.WriteLine("usage: SeedDaemon.Bench daemon [--quick] | derive | burst | scale [--quick]");
        return 2;
}

return 0;
