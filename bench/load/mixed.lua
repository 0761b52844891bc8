-- wrk script for bench/load/run: a mix of page and API reads with household edits
-- (PATCH /api/v1/households/{id}) that never conflict by design.
--
-- Usage:
--   wrk -t T -c C -d D -H 'Cookie: xiuhua_session=…' -H 'X-CSRF-Token: …' \
--       -s bench/load/mixed.lua http://HOST:PORT -- HOUSEHOLDS_FILE REGIONS_FILE T [WRITE_PCT] [TODAY]
--
-- HOUSEHOLDS_FILE: one household a line, "id version household_no" (ids stay strings: they
-- exceed what LuaJIT prints exactly). REGIONS_FILE: one region code a line.
--
-- The mix (of all requests): WRITE_PCT % edits; the rest reads, of which 25 % the household
-- page /households/{id}, 25 % GET /api/v1/households/{id}, 12 % the region page, 8 % the region
-- API, 12 % the household list page of a region, 9 % the API list of a region's poor
-- households, 9 % an API search by 户编号.
--
-- Edits without conflicts: every wrk thread edits only its own households (line i belongs to
-- thread (i-1) % T), never edits a household while an edit of it is pending, and sends the
-- version it knows. The PATCH answer is only {"version":N} and wrk does not say which
-- connection (so which request) an answer belongs to; so an edited household stays pending
-- until a GET /api/v1/households/{id} (part of the read mix; its body starts
-- {"id":…,"version":…}) shows the version the edit produces. An edit that does not show up
-- within STALE_S seconds (longer than wrk's --timeout: it failed, e.g. with a 500) is counted as
-- lost, and the household's version is re-read before it is edited again.
--
-- Prints one machine-readable LOAD_RESULT line in done() for bench/load/run.

local threads = {}
local counter = 0
local STALE_S = 12

function setup(thread)
  thread:set("thread_no", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function copy_headers(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

function init(args)
  local hfile, rfile = args[1], args[2]
  local nthreads = tonumber(args[3] or "1")
  write_pct = tonumber(args[4] or "15")
  today = args[5] or os.date("!%Y-%m-%d")
  if hfile == nil or rfile == nil then
    error("bench/load/mixed.lua: pass HOUSEHOLDS_FILE REGIONS_FILE THREADS after --")
  end
  all_ids, all_nos = {}, {}
  mine = {}          -- this thread's households (ids as strings)
  version = {}       -- id -> known version (mine only)
  local i = 0
  for line in io.lines(hfile) do
    local id, v, no = line:match("^(%d+)%s+(%d+)%s+(%S+)")
    if id then
      i = i + 1
      all_ids[#all_ids + 1] = id
      all_nos[#all_nos + 1] = no
      if (i - 1) % nthreads == thread_no then
        mine[#mine + 1] = id
        version[id] = tonumber(v)
      end
    end
  end
  regions = {}
  for line in io.lines(rfile) do
    if line ~= "" then regions[#regions + 1] = line end
  end
  if #all_ids == 0 or #regions == 0 or #mine == 0 then
    error("bench/load/mixed.lua: no households or regions")
  end
  math.randomseed(os.time() + 7919 * thread_no)
  pending = {}       -- id -> { expect = version the edit produces, t = os.time() sent }
  unknown = {}       -- id -> true: version to be re-read (after a lost edit)
  queue, qhead, qtail, queued = {}, 1, 0, {}   -- ids to GET through the API
  calls, seq = 0, 0
  patch_headers = copy_headers({ ["Content-Type"] = "application/json" })
  -- counters (summed over threads in done())
  n_read, n_write, n_write_ok, n_confirmed, n_lost = 0, 0, 0, 0, 0
  n_2xx, n_3xx, n_4xx, n_5xx, n_conflict = 0, 0, 0, 0, 0
  first_bad_status, first_bad_body = 0, ""
end

local function enqueue(id)
  if not queued[id] then
    queued[id] = true
    qtail = qtail + 1
    queue[qtail] = id
  end
end

local function dequeue()
  if qhead > qtail then return nil end
  local id = queue[qhead]
  queue[qhead] = nil
  qhead = qhead + 1
  queued[id] = nil
  return id
end

local function pick(t) return t[math.random(#t)] end

local function get(path)
  n_read = n_read + 1
  return wrk.format("GET", path, copy_headers())
end

local function edit()
  for _ = 1, 16 do
    local id = pick(mine)
    if not pending[id] and not unknown[id] then
      local v = version[id]
      pending[id] = { expect = v + 1, t = os.time() }
      enqueue(id)
      seq = seq + 1
      local phone = string.format("139%08d", (thread_no * 10000000 + seq) % 100000000)
      local body = string.format(
        '{"version":%d,"effective_date":"%s","reason":"load test","fields":{"phone":"%s"}}',
        v, today, phone)
      n_write = n_write + 1
      return wrk.format("PATCH", "/api/v1/households/" .. id, patch_headers, body)
    end
  end
  return nil
end

-- Edits not seen within STALE_S seconds are lost; their households' versions get re-read.
local function sweep()
  local now = os.time()
  for id, p in pairs(pending) do
    if now - p.t > STALE_S then
      pending[id] = nil
      unknown[id] = true
      n_lost = n_lost + 1
      enqueue(id)
    end
  end
end

function request()
  calls = calls + 1
  if calls % 200 == 0 then sweep() end
  if math.random(100) <= write_pct then
    local req = edit()
    if req then return req end
  end
  local x = math.random(100)
  if x <= 25 then
    return get("/households/" .. pick(all_ids))
  elseif x <= 50 then
    -- households with a pending edit or an unknown version first
    local id = dequeue() or pick(all_ids)
    return get("/api/v1/households/" .. id)
  elseif x <= 62 then
    return get("/regions/" .. pick(regions))
  elseif x <= 70 then
    return get("/api/v1/regions/" .. pick(regions))
  elseif x <= 82 then
    return get("/households?region=" .. pick(regions) .. "&page=" .. math.random(3))
  elseif x <= 91 then
    return get("/api/v1/households?region=" .. pick(regions) .. "&status=poor&per_page=20")
  else
    return get("/api/v1/households?q=" .. pick(all_nos) .. "&per_page=5")
  end
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    n_2xx = n_2xx + 1
    if body:match('^{"version":%d+}$') then
      n_write_ok = n_write_ok + 1
      return
    end
    local id, v = body:match('^{"id":(%d+),"version":(%d+)')
    if id and version[id] then
      v = tonumber(v)
      local p = pending[id]
      if p then
        if v >= p.expect then
          pending[id] = nil
          version[id] = v
          n_confirmed = n_confirmed + 1
        else
          enqueue(id)   -- not committed yet (or failed): look again
        end
      elseif unknown[id] then
        unknown[id] = nil
        version[id] = v
      end
    end
    return
  end
  if status < 400 then n_3xx = n_3xx + 1
  elseif status < 500 then n_4xx = n_4xx + 1
  else n_5xx = n_5xx + 1 end
  if status == 409 then n_conflict = n_conflict + 1 end
  if first_bad_status == 0 then
    first_bad_status = status
    first_bad_body = (body or ""):sub(1, 300):gsub("[\r\n]", " ")
  end
end

function done(summary, latency, requests)
  local keys = { "n_read", "n_write", "n_write_ok", "n_confirmed", "n_lost", "n_2xx", "n_3xx",
    "n_4xx", "n_5xx", "n_conflict" }
  local tot = {}
  for _, k in ipairs(keys) do tot[k] = 0 end
  local fstatus, fbody = 0, ""
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do tot[k] = tot[k] + (t:get(k) or 0) end
    local s = t:get("first_bad_status") or 0
    if fstatus == 0 and s ~= 0 then
      fstatus = s
      fbody = t:get("first_bad_body") or ""
    end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "LOAD_RESULT requests=%d duration_s=%.1f rps=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f " ..
    "reads=%d writes=%d writes_ok=%d writes_confirmed=%d writes_lost=%d s2xx=%d s3xx=%d s4xx=%d " ..
    "s5xx=%d conflicts=%d wrk_status_errors=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d " ..
    "first_bad_status=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000,
    tot.n_read, tot.n_write, tot.n_write_ok, tot.n_confirmed, tot.n_lost, tot.n_2xx, tot.n_3xx,
    tot.n_4xx, tot.n_5xx, tot.n_conflict, e.status, e.connect, e.read, e.write, e.timeout, fstatus))
  if fstatus ~= 0 then
    io.write("LOAD_FIRST_BAD " .. fstatus .. " " .. fbody .. "\n")
  end
end
