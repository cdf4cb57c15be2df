-- A message that the probe plugin refuses at MAIL; -D variables:
--   SOCK   libmilter socket
conn = mt.connect(SOCK, 40, 0.25)
if conn == nil then error("cannot connect to " .. SOCK) end
if mt.conninfo(conn, "client.test.example", "192.0.2.1") ~= nil then error("conninfo") end
if mt.helo(conn, "client.test.example") ~= nil then error("helo") end
mt.macro(conn, SMFIC_MAIL, "i", "4REJECT")
if mt.mailfrom(conn, "<alice@example.org>") ~= nil then error("mail") end
if mt.getreply(conn) ~= SMFIR_REPLYCODE then
  error("MAIL not refused with a reply code")
end
mt.disconnect(conn)
