// `--shard auto`: the shard a scheduler assigns, from the variables it sets for each task.
#include <charconv>
#include <string_view>

#include "exec/merge.hpp"

namespace persona::exec {

namespace {

// A whole non-negative number, or nullopt.
std::optional<unsigned> number(const char* text) {
  if (text == nullptr) return std::nullopt;
  const std::string_view s(text);
  unsigned v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

bool shard_from_environment(const std::function<const char*(const char*)>& env, std::optional<unsigned> shards,
                            unsigned& k, unsigned& n, std::string& error) {
  const char* slurm_id = env("SLURM_ARRAY_TASK_ID");
  const char* k8s_index = env("JOB_COMPLETION_INDEX");
  // A variable the scheduler sets, read as a number; false (and `error`) when missing or not one.
  auto read = [&](const char* name, unsigned& v, const std::string& why_needed) {
    const char* text = env(name);
    if (text == nullptr) {
      error = "--shard auto: " + std::string(name) + " is not set (" + why_needed + ")";
      return false;
    }
    const auto got = number(text);
    if (!got) {
      error = "--shard auto: " + std::string(name) + " is '" + text + "', not a whole number";
      return false;
    }
    v = *got;
    return true;
  };
  if (slurm_id != nullptr && k8s_index != nullptr) {
    error =
        "--shard auto: both SLURM_ARRAY_TASK_ID (a Slurm array) and JOB_COMPLETION_INDEX (a Kubernetes Indexed "
        "Job) are set; unset one, or give --shard K/N";
    return false;
  }
  if (slurm_id != nullptr) {
    unsigned id = 0, count = 0, min = 0;
    if (!read("SLURM_ARRAY_TASK_ID", id, "") ||
        !read("SLURM_ARRAY_TASK_COUNT", count, "Slurm sets it for job arrays: the number of array tasks") ||
        !read("SLURM_ARRAY_TASK_MIN", min, "Slurm sets it for job arrays: the lowest array index"))
      return false;
    if (count == 0) {
      error = "--shard auto: SLURM_ARRAY_TASK_COUNT is 0";
      return false;
    }
    if (const char* step = env("SLURM_ARRAY_TASK_STEP"); step != nullptr && number(step) != 1u) {
      error = "--shard auto: SLURM_ARRAY_TASK_STEP is '" + std::string(step) +
              "'; shards need a contiguous array (sbatch --array=1-N, step 1)";
      return false;
    }
    if (const char* max_text = env("SLURM_ARRAY_TASK_MAX"); max_text != nullptr) {
      const auto max = number(max_text);
      if (!max || *max < min || *max - min + 1 != count) {
        error = "--shard auto: SLURM_ARRAY_TASK_MAX is '" + std::string(max_text) + "' but SLURM_ARRAY_TASK_MIN is " +
                std::to_string(min) + " and SLURM_ARRAY_TASK_COUNT is " + std::to_string(count) +
                "; shards need a contiguous array (sbatch --array=1-N, no gaps)";
        return false;
      }
    }
    if (id < min || id - min >= count) {
      error = "--shard auto: SLURM_ARRAY_TASK_ID is " + std::to_string(id) + ", outside the array " +
              std::to_string(min) + ".." + std::to_string(min + count - 1) +
              " (SLURM_ARRAY_TASK_MIN .. SLURM_ARRAY_TASK_MIN + SLURM_ARRAY_TASK_COUNT - 1)";
      return false;
    }
    if (shards && *shards != count) {
      error = "--shard auto: --shards is " + std::to_string(*shards) + " but SLURM_ARRAY_TASK_COUNT is " +
              std::to_string(count);
      return false;
    }
    k = id - min + 1;
    n = count;
    return true;
  }
  if (k8s_index != nullptr) {
    unsigned index = 0;
    if (!read("JOB_COMPLETION_INDEX", index, "")) return false;
    unsigned total = 0;
    if (const char* env_shards = env("PERSONA_SHARDS"); env_shards != nullptr) {
      if (!read("PERSONA_SHARDS", total, "")) return false;
      if (shards && *shards != total) {
        error =
            "--shard auto: --shards is " + std::to_string(*shards) + " but PERSONA_SHARDS is " + std::to_string(total);
        return false;
      }
    } else if (shards) {
      total = *shards;
    } else {
      error =
          "--shard auto: JOB_COMPLETION_INDEX is set but the number of shards is not: give --shards N or set "
          "PERSONA_SHARDS (the Job's spec.completions)";
      return false;
    }
    if (total == 0) {
      error = "--shard auto: the number of shards (--shards or PERSONA_SHARDS) is 0";
      return false;
    }
    if (index >= total) {
      error = "--shard auto: JOB_COMPLETION_INDEX is " + std::to_string(index) + " but there are " +
              std::to_string(total) + " shards (indices 0.." + std::to_string(total - 1) + ")";
      return false;
    }
    k = index + 1;
    n = total;
    return true;
  }
  error =
      "--shard auto: no scheduler variables: SLURM_ARRAY_TASK_ID (a Slurm job array, sbatch --array=1-N) and "
      "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) are both unset; give --shard K/N outside a scheduler";
  if (env("SLURM_JOB_ID") != nullptr)
    error += " (SLURM_JOB_ID is set: this Slurm job is not an array; submit it with sbatch --array=1-N)";
  return false;
}

}  // namespace persona::exec
