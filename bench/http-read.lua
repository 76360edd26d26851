-- bench/http-read.lua — wrk script for bench/run-http: reads of members for a
-- purpose, rotating over many member ids so no one row stays hot.
--
--   CU_BENCH_TOKEN=cu_... wrk ... -s bench/http-read.lua URL -- IDS_FILE PURPOSE
--
-- IDS_FILE holds one member id a line.  Each wrk thread starts at its own
-- place in the list and walks it in order.

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

local ids, n, i = {}, 0, 0
local headers, query

function init(args)
	local f = assert(io.open(args[1], "r"), "cannot open the ids file")
	for line in f:lines() do
		if #line > 0 then
			n = n + 1
			ids[n] = line
		end
	end
	f:close()
	assert(n > 0, "no ids")
	query = "?purpose=" .. (args[2] or "support")
	headers = { ["Authorization"] = "Bearer " .. assert(os.getenv("CU_BENCH_TOKEN"), "CU_BENCH_TOKEN") }
	-- Threads start far apart (a large prime stride), then walk on.
	i = ((tid - 1) * 1000003) % n
end

function request()
	i = i % n + 1
	return wrk.format("GET", "/v1/members/" .. ids[i] .. query, headers)
end
