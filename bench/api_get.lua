-- wrk script for bench/api.sh: GET requests against the haul daemon.
--
--   wrk ... URL                              -- GET the URL's path every time
--   wrk ... -s bench/api_get.lua URL -- IDS  -- GET /api/jobs/<id>, <id> drawn at
--                                            -- random from the file IDS (one a line)
--
-- done() prints one machine-readable line for bench/api.sh:
--   WRK_RESULT requests=N duration_us=N p50_us=N p90_us=N p99_us=N max_us=N
--              status_errors=N socket_errors=N
local requests = nil

function init(args)
    local path = args[1]
    if path == nil then
        return
    end
    local f = assert(io.open(path, "r"))
    requests = {}
    for id in f:lines() do
        if id ~= "" then
            requests[#requests + 1] = wrk.format("GET", "/api/jobs/" .. id)
        end
    end
    f:close()
    assert(#requests > 0, "no ids in " .. path)
    -- a different sequence per thread
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
    if requests == nil then
        return wrk.format()
    end
    return requests[math.random(#requests)]
end

function done(summary, latency, _)
    local e = summary.errors
    io.write(string.format(
        "WRK_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d status_errors=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
