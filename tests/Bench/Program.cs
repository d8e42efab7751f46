using SeedDaemon.Bench;

// dotnet run -c Release --project tests/Bench -- daemon [--quick] [--postgres [--replicas N] [--standby] [--commit-delay-us N]] | derive | burst [--postgres [--replicas N]] | fleet [--postgres [--replicas N] [--standby] [--commit-delay-us N]] [--processes N] [--at-once N] [--rounds N] | scale [--quick] | runs [--quick] [--postgres] | scrub [--quick] [--postgres] | proofs [--quick] [--postgres] | load ADDRESS [getseed_new|getseed_repeat|batch_new|echo] [C] [SECONDS]
var mode = args.FirstOrDefault() ?? "";
var quick = args.Contains("--quick");
switch (mode)
{
    case "daemon":
        await DaemonMode.RunAsync(args);
        break;
    case "derive":
        DeriveMode.Run(args.Skip(1).Where(a => a != "--quick").ToArray());
        break;
    case "burst":
        await BurstMode.RunAsync(args);
        break;
    case "fleet":
        await FleetMode.RunAsync(args);
        break;
    case "load":
        await LoadMode.RunAsync(args);
        break;
    case "runs":
        await RunsMode.RunAsync(args);
        break;
    case "scrub":
        await ScrubMode.RunAsync(args);
        break;
    case "proofs":
        await ProofsMode.RunAsync(args);
        break;
    case "scale":
        await ScaleMode.RunAsync(quick ? 200_000 : 1_000_000);
        break;
    default:
        Console.Error.WriteLine("usage: SeedDaemon.Bench daemon [--quick] [--postgres [--replicas N] [--standby] [--commit-delay-us N]] | derive | burst [--postgres [--replicas N]] | fleet [--postgres [--replicas N] [--standby] [--commit-delay-us N]] [--processes N] [--at-once N] [--rounds N] | scale [--quick] | runs [--quick] [--postgres] | scrub [--quick] [--postgres] | proofs [--quick] [--postgres] | load ADDRESS [getseed_new|getseed_repeat|batch_new|echo] [C] [SECONDS]");
        return 2;
}

return 0;
