// JHttp.java - java.net.http.HttpClient under the shim (java JHttp.java URL):
// GET URL with a 5 s connect timeout; print the status and the body.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

public class JHttp {
	public static void main(String[] a) throws Exception {
		HttpClient c = HttpClient.newBuilder()
		    .version(HttpClient.Version.HTTP_1_1)
		    .connectTimeout(Duration.ofSeconds(5))
		    .build();
		HttpRequest r = HttpRequest.newBuilder(URI.create(a[0]))
		    .timeout(Duration.ofSeconds(10)).build();
		HttpResponse<String> res = c.send(r, HttpResponse.BodyHandlers.ofString());
		System.out.println("STATUS " + res.statusCode());
		System.out.print(res.body());
	}
}
