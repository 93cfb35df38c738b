#!/usr/bin/env bash
# Clang's thread-safety analysis over every source that takes or names a lock.
#
# The build compiles with GCC, which ignores ABSL_GUARDED_BY and ABSL_EXCLUSIVE_LOCKS_REQUIRED;
# this check makes them mean something: a member read without its mutex, a helper called
# without the lock its signature asks for, or a lambda that runs under the lock without saying
# so, fails the test with clang's message naming the file and line.
#
#   tests/lint/thread_safety.sh CLANGXX SOURCE_DIR BUILD_DIR
set -euo pipefail
clangxx="$1" src="$2" build="$3"
cd "$src"
mapfile -t files < <(grep -l -E 'ABSL_GUARDED_BY|ABSL_EXCLUSIVE_LOCKS_REQUIRED|absl::Mutex|MutexLock|[^a-z_]mu_' \
  $(find engine worker-agent dispatcher cli -name '*.cc' ! -name '*_test.cc' | sort))
[[ ${#files[@]} -gt 0 ]] || { echo "thread_safety: no sources found under $src" >&2; exit 1; }
failed=0
for f in "${files[@]}"; do
  if ! out=$("$clangxx" -std=c++17 -fsyntax-only -Wthread-safety -Werror=thread-safety \
      -Wno-unknown-warning-option -I"$src" -isystem "$build/proto/gen" -isystem "$build/worker-agent" \
      -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL -DFMT_SHARED "$f" 2>&1); then
    echo "$out"
    failed=1
  fi
done
echo "thread_safety: ${#files[@]} sources checked, $([[ $failed == 0 ]] && echo clean || echo FAILED)"
exit $failed
