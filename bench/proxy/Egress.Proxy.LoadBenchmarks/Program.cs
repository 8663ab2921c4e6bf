using Egress.Proxy.LoadBenchmarks;

// Load generator and target server for bench/proxy/run.sh. Loopback only; every loop is bounded.
//   target  --port P --bulk-port B             HTTP/1.1 keep-alive target ("hello") and a bulk byte source
//   connect --proxy H:P|direct --target H:P -c N -d SECONDS   new CONNECT tunnel (+ one request) per iteration
//   http    --proxy H:P|direct --target H:P -c N -d SECONDS   keep-alive plain HTTP through the proxy
//   bulk    --proxy H:P|direct --target H:B --mb N            MB/s through one tunnel
//   idle    --proxy H:P --target H:P --count N --hold-file F [--stall-kib K]  open N idle tunnels (or N stalled
//           ones: each asks the bulk port for K KiB and never reads), write F, wait until F is deleted
return await Cli.RunAsync(args);
