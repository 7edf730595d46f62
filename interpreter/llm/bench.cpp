// persona-bench-llm: throughput of the client against the fake server.
// The server answers every request after L ms, so C requests in flight can give at most C / L
// requests per second; the ratio measured / (C / L) shows how much the client loses.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "llm/client.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/structured.hpp"

namespace {

int arg_int(int argc, char** argv, int& i, std::string_view name, int fallback) {
  const std::string_view a = argv[i];
  if (a == name && i + 1 < argc) return std::atoi(argv[++i]);
  if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=') {
    return std::atoi(std::string(a.substr(name.size() + 1)).c_str());
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace persona::llm;
  int latency_ms = 200;
  int concurrency = 32;
  int requests = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: persona-bench-llm [--latency-ms L=200] [--concurrency C=32] [--requests N=10*C]\n");
      return 0;
    }
    if (a.starts_with("--latency-ms")) {
      latency_ms = arg_int(argc, argv, i, "--latency-ms", latency_ms);
    } else if (a.starts_with("--concurrency")) {
      concurrency = arg_int(argc, argv, i, "--concurrency", concurrency);
    } else if (a.starts_with("--requests")) {
      requests = arg_int(argc, argv, i, "--requests", requests);
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (latency_ms < 0 || concurrency < 1) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  if (requests <= 0) requests = 10 * concurrency;

  fake::Config cfg;
  cfg.latency_ms = latency_ms;
  cfg.threads = 2 * concurrency + 16;
  fake::Server server(cfg);
  if (!server.start()) {
    std::fprintf(stderr, "cannot start the fake server\n");
    return 1;
  }
  Provider p;
  p.name = "fake";
  p.base_url = server.base_url();
  p.model = "fake-model";
  p.api_key_env = "";
  p.max_concurrency = concurrency;
  p.timeout_ms = 60'000;
  Options opt;
  opt.aimd_increase_after = 1;
  Client client(p, opt);

  const std::vector<std::string> keys = {"occupation", "hobby", "home_city", "favourite_food"};
  const auto schema = slots_schema(keys);
  long ok = 0;
  long complete = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) {
    ChatOptions co;
    co.schema = &schema;
    co.seed = i;
    auto body =
        chat_body(p, {{"system", "You fill persona attributes."}, {"user", "Persona #" + std::to_string(i)}}, co);
    client.submit({std::move(body), std::to_string(i), Endpoint::chat, false, true}, [&](Response r) {
      if (!r.ok()) return;
      ++ok;
      auto got = extract_json(r.content);
      if (got.value && validate(*got.value, keys).complete()) ++complete;
    });
  }
  client.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  server.stop();

  const double rps = static_cast<double>(ok) / secs;
  const double bound = latency_ms > 0 ? 1000.0 * concurrency / latency_ms : 0.0;
  const auto st = client.stats();
  std::printf("persona-bench-llm: %d requests, concurrency %d, server latency %d ms\n", requests, concurrency,
              latency_ms);
  std::printf("  ok %ld (complete JSON %ld), wall %.3f s, in-flight peak %d, server peak %d\n", ok, complete, secs,
              st.in_flight_peak, server.peak_concurrency());
  if (bound > 0) {
    std::printf("  throughput %.1f req/s, server-bound limit C/L = %.1f req/s, ratio %.3f\n", rps, bound, rps / bound);
  } else {
    std::printf("  throughput %.1f req/s (no latency: client-bound)\n", rps);
  }
  std::printf("  %s\n", st.to_string().c_str());
  return ok == requests ? 0 : 1;
}
