#!lua name=utm_ledger
-- The ledger's Redis Functions (loaded by RedisLedger with FUNCTION LOAD
-- REPLACE; Functions are persisted and replicated with the data, unlike the
-- EVAL script cache). Every key is under the prefix of KEYS[1], which names
-- the sequence key "<prefix>seq" with a hash tag, e.g. "{utm}:seq": one
-- Redis Cluster slot, so one function may touch all of them.
--
-- Keys (prefix P):
--   P..'seq'        last committed sequence number (absent: 0)
--   P..'head'       chained hash of that entry (absent: "")
--   P..'ver'        hash: guard key -> sequence of the last entry writing it
--   P..'feed'       stream: entry <seq>-0 with fields h=<hash>, then per
--                   mutation t=<table>, k=<key>, and v=<value> or d=""
--   P..'t:'..table  hash: key -> value, the tables' current records
--
-- A script that fails part-way does not undo the writes it made, so every
-- check comes before the first write.

local function prefix(keys)
  return string.sub(keys[1], 1, #keys[1] - 3)
end

local function lp(s)
  return #s .. ':' .. s
end

local function position(p)
  local seq = tonumber(redis.call('GET', p .. 'seq') or '0')
  local head = redis.call('GET', p .. 'head') or ''
  return seq, head
end

-- utm_commit KEYS: P..'seq'
-- ARGV: base_seq, base_hash, n_reads, n_writes, n_mutations, feed_max,
--       reads..., writes..., then per mutation: op ('p' or 'd'), table,
--       key, value ('' for 'd').
-- Returns {'ok'|'moved'|'reload', seq, hash}: the new entry, or the latest.
local function commit(keys, args)
  local p = prefix(keys)
  local base = tonumber(args[1])
  local base_hash = args[2]
  local n_reads = tonumber(args[3])
  local n_writes = tonumber(args[4])
  local n_mutations = tonumber(args[5])
  local feed_max = tonumber(args[6])
  if base == nil or n_reads == nil or n_writes == nil or n_mutations == nil
      or feed_max == nil
      or #args ~= 6 + n_reads + n_writes + 4 * n_mutations then
    return redis.error_reply('ERR utm_commit: malformed arguments')
  end
  local seq, head = position(p)

  -- The base must be in the history as the caller knows it.
  if base > seq then return {'reload', seq, head} end
  if base == seq then
    if base_hash ~= head then return {'reload', seq, head} end
  elseif base == 0 then
    if base_hash ~= '' then return {'reload', seq, head} end
  else
    local e = redis.call('XRANGE', p .. 'feed', base .. '-0', base .. '-0')
    if #e == 0 or e[1][2][2] ~= base_hash then
      return {'reload', seq, head}
    end
  end

  -- Nothing the decision read may have changed after the base.
  local ver = p .. 'ver'
  local i = 7
  local last_read = 6 + n_reads
  while i <= last_read do
    local j = math.min(i + 999, last_read)
    local vs = redis.call('HMGET', ver, unpack(args, i, j))
    for _, v in ipairs(vs) do
      if v and tonumber(v) > base then return {'moved', seq, head} end
    end
    i = j + 1
  end

  -- A check with nothing to write (a decision that changes nothing, such
  -- as a rejected filing) confirms the base and adds no entry.
  if n_mutations == 0 and n_writes == 0 then return {'ok', seq, head} end

  -- Checks done: write.
  local new = seq + 1
  local parts = {head, '\n'}
  local fields = {}
  local off = 6 + n_reads + n_writes
  for m = 0, n_mutations - 1 do
    local op = args[off + 4 * m + 1]
    local t = args[off + 4 * m + 2]
    local k = args[off + 4 * m + 3]
    local v = args[off + 4 * m + 4]
    parts[#parts + 1] = lp(t)
    parts[#parts + 1] = lp(k)
    fields[#fields + 1] = 't'
    fields[#fields + 1] = t
    fields[#fields + 1] = 'k'
    fields[#fields + 1] = k
    if op == 'p' then
      parts[#parts + 1] = lp(v)
      fields[#fields + 1] = 'v'
      fields[#fields + 1] = v
    else
      parts[#parts + 1] = '-'
      fields[#fields + 1] = 'd'
      fields[#fields + 1] = ''
    end
  end
  local hash = redis.sha1hex(table.concat(parts))
  for m = 0, n_mutations - 1 do
    local t = p .. 't:' .. args[off + 4 * m + 2]
    if args[off + 4 * m + 1] == 'p' then
      redis.call('HSET', t, args[off + 4 * m + 3], args[off + 4 * m + 4])
    else
      redis.call('HDEL', t, args[off + 4 * m + 3])
    end
  end
  i = 7 + n_reads
  local last_write = 6 + n_reads + n_writes
  while i <= last_write do
    local j = math.min(i + 499, last_write)
    local kv = {}
    for w = i, j do
      kv[#kv + 1] = args[w]
      kv[#kv + 1] = new
    end
    redis.call('HSET', ver, unpack(kv))
    i = j + 1
  end
  redis.call('SET', p .. 'seq', new)
  redis.call('SET', p .. 'head', hash)
  if feed_max > 0 then
    redis.call('XADD', p .. 'feed', 'MAXLEN', '~', feed_max, new .. '-0',
               'h', hash, unpack(fields))
  else
    redis.call('XADD', p .. 'feed', new .. '-0', 'h', hash, unpack(fields))
  end
  return {'ok', new, hash}
end

-- utm_position KEYS: P..'seq'. Returns {seq, hash} of the latest entry.
local function latest(keys)
  local seq, head = position(prefix(keys))
  return {seq, head}
end

redis.register_function('utm_commit', commit)
redis.register_function{function_name = 'utm_position', callback = latest,
                        flags = {'no-writes'}}
