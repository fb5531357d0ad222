#!lua name=utm_ledger
-- The ledger's Redis Functions (loaded by RedisLedger when Redis has none
-- or an older version; Functions are persisted and replicated with the data,
-- unlike the EVAL script cache). Every key is under the prefix of KEYS[1], which names
-- the sequence key "<prefix>seq" with a hash tag, e.g. "{utm}:seq": one
-- Redis Cluster slot, so one function may touch all of them.
--
-- Keys (prefix P):
--   P..'seq'        last committed sequence number (absent: 0)
--   P..'head'       chained hash of that entry (absent: "")
--   P..'ver'        hash: guard key -> sequence of the last entry writing
--                   it; fields at or below the floor (the seq before the
--                   oldest feed entry) are pruned a few per commit
--   P..'ver:cursor' HSCAN cursor of that pruning (absent: "0")
--   P..'durable'    highest seq confirmed on the awaited Redis replicas
--   P..'durable:probe' a counter a follower bumps to WAIT on it (not here)
--   P..'lib'        bumped by every load of this library (a WATCH token)
--   P..'feed'       stream: entry <seq>-0 with fields h=<hash>, then per
--                   mutation t=<table>, k=<key>, and v=<value> or d=""
--   P..'t:'..table  hash: key -> value, the tables' current records
--
-- A script that fails part-way does not undo the writes it made, so every
-- check comes before the first write.

-- The library's version, and the oldest replica version it serves: a
-- replica loads this library only over an older version, and refuses to
-- start on a newer one whose COMPATIBLE_FROM is above its own VERSION.
-- Raise VERSION with every change; raise COMPATIBLE_FROM only when the
-- calls or keys of older replicas no longer work (a stop-the-world upgrade).
-- RedisLedger reads both numbers from these two lines.
local VERSION = 3
local COMPATIBLE_FROM = 1

-- Version fields examined per commit for pruning, beyond twice the commit's
-- write keys (so pruning outpaces growth).
local PRUNE_SCAN = 16

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

-- Drops version fields that no valid base can need. A base is valid only
-- if it is in the feed (or is the empty history while entry 1 is), so every
-- valid base is >= the oldest feed entry F, now and later (trimming only
-- raises F). A field with seq <= F - 1 (the floor) can never exceed a valid
-- base: absent, it gives the same verdict. Examines about `count` fields
-- from a cursor kept across commits.
local function prune(p, count)
  local first = redis.call('XRANGE', p .. 'feed', '-', '+', 'COUNT', 1)
  if #first == 0 then return end
  local floor = tonumber(string.match(first[1][1], '^(%d+)-')) - 1
  if floor <= 0 then return end
  local ver = p .. 'ver'
  local ck = p .. 'ver:cursor'
  local r = redis.call('HSCAN', ver, redis.call('GET', ck) or '0',
                       'COUNT', count)
  local stale = {}
  local kv = r[2]
  for f = 1, #kv, 2 do
    if tonumber(kv[f + 1]) <= floor then stale[#stale + 1] = kv[f] end
  end
  if #stale > 0 then redis.call('HDEL', ver, unpack(stale)) end
  if r[1] == '0' then
    redis.call('DEL', ck)
  else
    redis.call('SET', ck, r[1])
  end
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
    -- The empty history is a valid base only while nothing was trimmed:
    -- the version fields it would need may have been pruned. (An empty
    -- feed after entries were committed was trimmed whole: utm_forget.)
    if base_hash ~= '' then return {'reload', seq, head} end
    local first = redis.call('XRANGE', p .. 'feed', '-', '+', 'COUNT', 1)
    if #first == 0 or first[1][1] ~= '1-0' then
      return {'reload', seq, head}
    end
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
  prune(p, math.min(1000, PRUNE_SCAN + 2 * n_writes))
  return {'ok', new, hash}
end

-- utm_position KEYS: P..'seq'. Returns {seq, hash} of the latest entry.
local function latest(keys)
  local seq, head = position(prefix(keys))
  return {seq, head}
end

-- utm_durable KEYS: P..'seq'. ARGV: seq, hash. Raises P..'durable' to seq
-- (never lowers it) if entry seq is in this history with that hash; called
-- once the entry is confirmed on the awaited replicas. Returns the
-- watermark.
local function durable(keys, args)
  local p = prefix(keys)
  local s = tonumber(args[1])
  if s == nil or args[2] == nil then
    return redis.error_reply('ERR utm_durable: malformed arguments')
  end
  local cur = tonumber(redis.call('GET', p .. 'durable') or '0')
  if s <= cur then return cur end
  local seq, head = position(p)
  local same = false
  if s == seq then
    same = head == args[2]
  elseif s < seq then
    local e = redis.call('XRANGE', p .. 'feed', s .. '-0', s .. '-0')
    same = #e > 0 and e[1][2][2] == args[2]
  end
  if not same then return cur end
  redis.call('SET', p .. 'durable', s)
  return s
end

-- utm_forget KEYS: P..'seq'. ARGV: seq, hash. Forgets the history up to
-- and including entry seq, for an erasure whose deletions it ends with:
-- trims the feed to the entries after it (XTRIM MINID) and drops every
-- version field at or below it (valid bases are no older now, as after any
-- trim: see prune), so that neither the old values in the feed nor the
-- keys of the guards (object ids, request keys naming their owner) remain.
-- Checked first, in the same call: entry seq must be in this history with
-- that hash (the latest, or still in the feed, or trimmed already with the
-- feed starting after it); a history that lost it in a failover answers
-- 'lost', and nothing is changed. Returns {'ok'|'lost', entries trimmed,
-- version fields dropped}. Costs one pass over the version fields: an
-- erasure is rare, and the hash holds only the keys of the feed's window.
local function forget(keys, args)
  local p = prefix(keys)
  local s = tonumber(args[1])
  if s == nil or args[2] == nil then
    return redis.error_reply('ERR utm_forget: malformed arguments')
  end
  local seq, head = position(p)
  local feed = p .. 'feed'
  if s > seq then return {'lost', 0, 0} end
  if s == seq then
    if head ~= args[2] then return {'lost', 0, 0} end
  else
    local e = redis.call('XRANGE', feed, s .. '-0', s .. '-0')
    if #e > 0 then
      if e[1][2][2] ~= args[2] then return {'lost', 0, 0} end
    else
      local first = redis.call('XRANGE', feed, '-', '+', 'COUNT', 1)
      if #first > 0 and
          tonumber(string.match(first[1][1], '^(%d+)-')) <= s then
        return {'lost', 0, 0}
      end
    end
  end
  local trimmed = redis.call('XTRIM', feed, 'MINID', (s + 1) .. '-0')
  local ver = p .. 'ver'
  local dropped = 0
  local cursor = '0'
  repeat
    local r = redis.call('HSCAN', ver, cursor, 'COUNT', 1000)
    cursor = r[1]
    local stale = {}
    local kv = r[2]
    for f = 1, #kv, 2 do
      if tonumber(kv[f + 1]) <= s then stale[#stale + 1] = kv[f] end
    end
    if #stale > 0 then
      redis.call('HDEL', ver, unpack(stale))
      dropped = dropped + #stale
    end
  until cursor == '0'
  redis.call('DEL', p .. 'ver:cursor')
  return {'ok', trimmed, dropped}
end

-- utm_version: {VERSION, COMPATIBLE_FROM}.
local function version()
  return {VERSION, COMPATIBLE_FROM}
end

redis.register_function('utm_commit', commit)
redis.register_function('utm_durable', durable)
redis.register_function('utm_forget', forget)
redis.register_function{function_name = 'utm_version', callback = version,
                        flags = {'no-writes'}}
redis.register_function{function_name = 'utm_position', callback = latest,
                        flags = {'no-writes'}}
