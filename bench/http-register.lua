-- bench/http-register.lua — wrk script for bench/run-http: durable
-- registrations (POST /v1/members) by a service token, no password.
--
--   CU_BENCH_TOKEN=cu_... wrk ... -s bench/http-register.lua URL
--
-- Every request registers a new member: its e-mail address is made of a
-- random run tag, the wrk thread's number and a per-thread counter, so no
-- two requests of a run, and no two runs, share an address.  Responses are
-- counted by status; done() prints
--
--   statuses: 2xx=N 409=N other=N
--
-- which bench/run-http compares with the members the store gained.

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

local counter = 0
local tag
local headers

ok, conflict, other = 0, 0, 0

function init(args)
	local seed = os.time() * 1000 + tid
	local f = io.open("/dev/urandom", "rb")
	if f then
		local b = f:read(4)
		f:close()
		seed = seed + b:byte(1) + b:byte(2) * 256 + b:byte(3) * 65536 + b:byte(4) * 16777216
	end
	math.randomseed(seed)
	tag = string.format("%08x", math.random(0, 0x7fffffff))
	headers = {
		["Authorization"] = "Bearer " .. assert(os.getenv("CU_BENCH_TOKEN"), "CU_BENCH_TOKEN"),
		["Content-Type"] = "application/json",
	}
end

function request()
	counter = counter + 1
	local body = string.format(
		'{"name":"Bench Writer %d","address":"1-2-3 Shibuya, Shibuya-ku, Tokyo",' ..
		'"phone":"+8190%08d","email":"w%s-%d-%d@example.com","occupation":"engineer"}',
		counter, counter % 100000000, tag, tid, counter)
	return wrk.format("POST", "/v1/members", headers, body)
end

function response(status, hdrs, body)
	if status >= 200 and status < 300 then
		ok = ok + 1
	elseif status == 409 then
		conflict = conflict + 1
	else
		other = other + 1
	end
end

function done(summary, latency, requests)
	local o, c, x = 0, 0, 0
	for _, t in ipairs(threads) do
		o = o + t:get("ok")
		c = c + t:get("conflict")
		x = x + t:get("other")
	end
	io.write(string.format("statuses: 2xx=%d 409=%d other=%d\n", o, c, x))
end
