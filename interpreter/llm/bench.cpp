// persona-bench-llm: throughput of the client against the fake server.
// The server answers every request after L ms, so C requests in flight can give at most C / L
// requests per second; the ratio measured / (C / L) shows how much the client loses. With
// --replicas R the provider lists R servers (C is still the total), and --dead D of them are ports
// nothing listens on: the spread per replica and what the dead ones cost are printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  int replicas = 1;
  int dead = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: persona-bench-llm [--latency-ms L=200] [--concurrency C=32] [--requests N=10*C] [--replicas R=1] "
          "[--dead D=0]\n");
      return 0;
    }
    if (a.starts_with("--latency-ms")) {
      latency_ms = arg_int(argc, argv, i, "--latency-ms", latency_ms);
    } else if (a.starts_with("--concurrency")) {
      concurrency = arg_int(argc, argv, i, "--concurrency", concurrency);
    } else if (a.starts_with("--requests")) {
      requests = arg_int(argc, argv, i, "--requests", requests);
    } else if (a.starts_with("--replicas")) {
      replicas = arg_int(argc, argv, i, "--replicas", replicas);
    } else if (a.starts_with("--dead")) {
      dead = arg_int(argc, argv, i, "--dead", dead);
    } else {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      return 2;
    }
  }
  if (latency_ms < 0 || concurrency < 1 || replicas < 1 || replicas > 64 || dead < 0 || dead >= replicas) {
    std::fprintf(stderr, "bad arguments\n");
    return 2;
  }
  if (requests <= 0) requests = 10 * concurrency;

  fake::Config cfg;
  cfg.latency_ms = latency_ms;
  cfg.threads = 2 * concurrency + 16;
  std::vector<std::unique_ptr<fake::Server>> servers;
  std::vector<std::string> urls;
  for (int r = 0; r < replicas; ++r) {
    servers.push_back(std::make_unique<fake::Server>(cfg));
    if (!servers.back()->start()) {
      std::fprintf(stderr, "cannot start the fake server\n");
      return 1;
    }
    urls.push_back(servers.back()->base_url());
  }
  // The last D replicas: stopped, their ports closed (connection refused).
  for (int r = replicas - dead; r < replicas; ++r) servers[static_cast<std::size_t>(r)]->stop();
  Provider p;
  p.name = "fake";
  p.base_url = urls.front();
  p.more_base_urls.assign(urls.begin() + 1, urls.end());
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
  int server_peak = 0;
  for (const auto& sv : servers) server_peak = std::max(server_peak, sv->peak_concurrency());
  for (auto& sv : servers) sv->stop();

  const double rps = static_cast<double>(ok) / secs;
  const double bound = latency_ms > 0 ? 1000.0 * concurrency / latency_ms : 0.0;
  const auto st = client.stats();
  std::printf("persona-bench-llm: %d requests, concurrency %d, server latency %d ms, %d replica%s (%d down)\n",
              requests, concurrency, latency_ms, replicas, replicas == 1 ? "" : "s", dead);
  std::printf("  ok %ld (complete JSON %ld), wall %.3f s, in-flight peak %d, busiest server's peak %d\n", ok, complete,
              secs, st.in_flight_peak, server_peak);
  if (bound > 0) {
    std::printf("  throughput %.1f req/s, server-bound limit C/L = %.1f req/s, ratio %.3f\n", rps, bound, rps / bound);
  } else {
    std::printf("  throughput %.1f req/s (no latency: client-bound)\n", rps);
  }
  std::printf("  %s\n", st.to_string().c_str());
  if (replicas > 1)
    for (const auto& r : st.replicas)
      std::printf("  replica %s: %ld answers, %ld failed attempts, set aside %ld time%s%s\n", r.url.c_str(),
                  r.succeeded, r.failed, r.set_aside, r.set_aside == 1 ? "" : "s", r.down ? ", down" : "");
  return ok == requests ? 0 : 1;
}
