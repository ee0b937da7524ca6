# The e2e suite's workload: answers "<pod name> <client address>" over HTTP (TCP 8080) and UDP (9090), so a
# test sees which endpoint served it and whether the client's address was kept. On SIGTERM it keeps serving
# for 3 s (the endpoint is already terminating, so proxies send it nothing new) and then stops, as a
# well-behaved server drains.
import http.server, signal, socket, socketserver, threading, time

name = socket.gethostname()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = f"{name} {self.client_address[0]}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

server = Server(("0.0.0.0", 8080), Handler)

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 9090))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(f"{name} {peer[0]}\n".encode(), peer)

threading.Thread(target=udp, daemon=True).start()

def drain(*_):
    threading.Thread(target=lambda: (time.sleep(3), server.shutdown()), daemon=True).start()

signal.signal(signal.SIGTERM, drain)
server.serve_forever()
