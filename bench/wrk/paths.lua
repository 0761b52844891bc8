-- wrk script for bench/run: rotates through the request paths listed in a file
-- (one per line, e.g. 500 `/households/{id}` lines, or a single `/regions/451228`),
-- counts every response whose status is not 2xx (wrk itself only counts >= 400,
-- so a redirect to /login after a lost session would go unnoticed), and prints one
-- machine-readable `BENCH_RESULT ...` line at the end for bench/run to parse.
--
-- Usage: wrk ... -s bench/wrk/paths.lua -H 'Cookie: xiuhua_session=TOKEN' http://HOST:PORT -- PATHS_FILE

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_no", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file = args[1]
  if file == nil then
    error("bench/wrk/paths.lua: pass the paths file after --")
  end
  reqs = {}
  for line in io.lines(file) do
    if line ~= "" then
      -- wrk.format adds wrk.headers, which hold the -H headers (the session cookie).
      reqs[#reqs + 1] = wrk.format("GET", line)
    end
  end
  if #reqs == 0 then
    error("bench/wrk/paths.lua: no paths in " .. file)
  end
  -- Each thread starts at a different place in the list.
  idx = (thread_no * 997) % #reqs
  non2xx = 0
  first_bad_status = 0
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad_status == 0 then
      first_bad_status = status
    end
  end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    local s = t:get("first_bad_status") or 0
    if bad_status == 0 and s ~= 0 then
      bad_status = s
    end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d non2xx=%d first_bad_status=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    bad, bad_status, e.connect, e.read, e.write, e.timeout))
end
