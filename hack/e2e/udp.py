# One UDP request: prints the server's answer, exits 1 after a 2 s timeout.  python3 udp.py HOST PORT
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(2048).decode().strip())
except socket.timeout:
    print("timeout", file=sys.stderr)
    sys.exit(1)
