// JSock.java - java.net.Socket under the shim (java JSock.java ...):
//   get HOST PORT PATH       connect with a 5 s timeout, GET PATH, print
//                            the reply
//   timeout HOST PORT MS     connect with an MS timeout to a destination
//                            that does not answer: print what was thrown
//                            and how long it took
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class JSock {
	public static void main(String[] a) throws Exception {
		InetSocketAddress dst = new InetSocketAddress(a[1], Integer.parseInt(a[2]));
		if (a[0].equals("get")) {
			try (Socket s = new Socket()) {
				s.connect(dst, 5000);
				OutputStream o = s.getOutputStream();
				o.write(("GET " + a[3] + " HTTP/1.0\r\nHost: " + a[1] + "\r\n\r\n")
				    .getBytes(StandardCharsets.US_ASCII));
				o.flush();
				InputStream i = s.getInputStream();
				System.out.print(new String(i.readAllBytes(), StandardCharsets.US_ASCII));
				System.out.println("PEER " + s.getInetAddress().getHostAddress() + " " + s.getPort());
			}
			return;
		}
		long t0 = System.nanoTime();
		try (Socket s = new Socket()) {
			s.connect(dst, Integer.parseInt(a[3]));
			System.out.println("CONNECTED");
		} catch (Exception e) {
			System.out.println("THROWN " + e.getClass().getSimpleName());
		}
		System.out.println("MS " + (System.nanoTime() - t0) / 1000000);
	}
}
