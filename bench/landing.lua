-- wrk script: GET or POST the landing page of many distinct links (one a line in
-- LANDING_CODES), each wrk thread through its own share of them.
local codes, threads = {}, {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("LANDING_CODES")) do
    local code, phone = line:match("^(%S+) (%S+)$")
    table.insert(codes, {code, phone})
  end
  method = os.getenv("LANDING_METHOD") or "GET"
  step = tonumber(os.getenv("LANDING_THREADS"))
  counter = id
end

function request()
  if method == "FLOOR" then
    return wrk.format("GET")
  end
  local link = codes[(counter % #codes) + 1]
  counter = counter + step
  local path = "/s/" .. link[1]
  if method == "POST" then
    -- The number the message went to, as its recipient types it: a real opt-out.
    local body = "phone=" .. link[2]:gsub("%+", "%%2B")
    return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
  return wrk.format("GET", path)
end
