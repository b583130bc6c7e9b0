-- wrk script: the suppression check with the bench's key, each request for the next of
-- many numbers (one query string a line in API_CHECK_QUERIES), or the floor view.
local queries = {}
local counter, step = 0, 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  for line in io.lines(os.getenv("API_CHECK_QUERIES")) do
    table.insert(queries, line)
  end
  method = os.getenv("API_METHOD") or "CHECK"
  step = tonumber(os.getenv("LANDING_THREADS"))
  counter = id
  headers = {["Authorization"] = "Bearer " .. os.getenv("API_KEY")}
end

function request()
  if method == "FLOOR" then
    return wrk.format("GET")
  end
  local query = queries[(counter % #queries) + 1]
  counter = counter + step
  return wrk.format("GET", wrk.path .. "?" .. query, headers)
end
