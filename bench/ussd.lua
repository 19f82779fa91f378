-- wrk script: full USSD sessions, one connection per wrk thread so that a session's steps go in order.
-- Sessions alternate: a profile migration (#121#, 1, 1*3, 1*3*1: Novamix -> Dauphin) on a fresh
-- subscriber, then a balance (#121#, 3) on the same subscriber.
-- Arguments: -- <first msisdn number> <msisdns per thread> <run tag>
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local migration = {"", "1", "1*3", "1*3*1"}
local balance = {"", "3"}

function init(args)
  first = tonumber(args[1])
  per_thread = tonumber(args[2])
  tag = args[3] or "run"
  session = 0
  step = 0
  bad = 0
  migrated = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["X-Ussd-Token"] = "bench-ussd-token-0123456789"  -- bench/common.py USSD_TOKEN
end

local function current()
  if session % 2 == 0 then return migration end
  return balance
end

function request()
  local steps = current()
  step = step + 1
  if step > #steps then
    step = 1
    session = session + 1
    steps = current()
  end
  local n = first + tid * per_thread + math.floor(session / 2) % per_thread
  local msisdn = string.format("%%2B22507%08d", n)
  local body = "sessionId=" .. tag .. "-" .. tid .. "-" .. session .. "&serviceCode=%23121%23&phoneNumber=" ..
               msisdn .. "&networkCode=62001&text=" .. steps[step]:gsub("%*", "%%2A")
  return wrk.format(nil, "/ussd", nil, body)
end

function response(status, headers, body)
  if status ~= 200 or string.sub(body, 1, 3) ~= "CON" and string.sub(body, 1, 3) ~= "END" then
    bad = bad + 1
  elseif string.find(body, "maintenant", 1, true) then
    migrated = migrated + 1
  elseif string.find(body, "indisponible", 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local errors, moved = 0, 0
  for _, thread in ipairs(threads) do
    errors = errors + (thread:get("bad") or 0)
    moved = moved + (thread:get("migrated") or 0)
  end
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "bad": %d, "migrated": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, moved, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
