-- One message through mailward-milter the way Sendmail 8.14+ sends it with the macros of
-- conf-examples/sendmail.mc: "_" and {daemon_name}/{if_addr} at connect, the TLS macros
-- at HELO, the queue id "i" and {auth_authen} at MAIL, header values without the blank
-- after the colon. -D variables:
--   SOCK  the filter's socket      ADDR  client address in CONNECT
--   QID   the queue id Sendmail gives at MAIL
--   AUTH  if set, the SMTP AUTH user ({auth_authen}: the message is outbound)
--   DIR   expected X-Mailward-Probe value (inbound|outbound)      ARID  our authserv-id
conn = mt.connect(SOCK, 40, 0.25)
if conn == nil then error("cannot connect to " .. SOCK) end

mt.macro(conn, SMFIC_CONNECT, "j", "mta.sendmail.example",
         "_", "client.test.example [" .. ADDR .. "]",
         "{daemon_name}", "MTA", "{if_name}", "mta.sendmail.example",
         "{if_addr}", "192.0.2.25", "{client_addr}", ADDR,
         "{client_name}", "client.test.example", "{client_port}", "40123")
if mt.conninfo(conn, "client.test.example", ADDR) ~= nil then error("conninfo") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect not continued") end
mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384",
         "{cipher_bits}", "256", "{verify}", "NO")
if mt.helo(conn, "client.test.example") ~= nil then error("helo") end

if AUTH ~= nil then
  mt.macro(conn, SMFIC_MAIL, "i", QID, "{auth_type}", "PLAIN", "{auth_authen}", AUTH,
           "{auth_ssf}", "0", "{mail_mailer}", "esmtp", "{mail_host}", "example.org",
           "{mail_addr}", "alice@example.org")
else
  mt.macro(conn, SMFIC_MAIL, "i", QID, "{mail_mailer}", "esmtp", "{mail_host}", "example.org",
           "{mail_addr}", "alice@example.org")
end
if mt.mailfrom(conn, "<alice@example.org>", "SIZE=120") ~= nil then error("mail") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mail not continued") end
mt.macro(conn, SMFIC_RCPT, "i", QID, "{rcpt_mailer}", "local", "{rcpt_host}", "",
         "{rcpt_addr}", "bob")
if mt.rcptto(conn, "<bob@example.net>") ~= nil then error("rcpt") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcpt not continued") end

mt.header(conn, "Received", "from client.test.example (client.test.example [" .. ADDR ..
          "])\n\tby mta.sendmail.example (8.17.1.9/8.17.1.9) with ESMTP id " .. QID)
mt.header(conn, "From", "Alice <alice@example.org>")
mt.header(conn, "Subject", "via sendmail")
if mt.eoh(conn) ~= nil then error("eoh") end
if mt.bodystring(conn, "hello\r\n") ~= nil then error("body") end
if mt.eom(conn) ~= nil then error("eom") end
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then
  error("message not accepted")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Mailward-Probe", DIR) then
  error("X-Mailward-Probe is not " .. DIR)
end
if DIR == "inbound" then
  local want = ARID .. ";\n\tx-probe=pass smtp.mailfrom=alice@example.org"
  if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results", want, 0) then
    error("no Authentication-Results at index 0")
  end
end
mt.disconnect(conn)
