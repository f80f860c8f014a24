package lambdabox.ric;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The class loader of the function's code, as AWS's: the task root (classes at its top), then
 * the jars in {@code <task root>/lib}, then the layers' jars in {@code /opt/java/lib}, each
 * folder's jars in lexical order (not the file system's). Its parent is the runtime's loader, so
 * the {@code com.amazonaws.services.lambda.runtime} interfaces are the runtime's even when the
 * function bundles {@code aws-lambda-java-core}.
 */
final class CustomerClassLoader extends URLClassLoader {
    static {
        ClassLoader.registerAsParallelCapable();
    }

    CustomerClassLoader(String taskRoot, String optRoot, ClassLoader parent) {
        super(urls(taskRoot, optRoot), parent);
    }

    static URL[] urls(String taskRoot, String optRoot) {
        List<URL> urls = new ArrayList<>();
        try {
            urls.add(new URL("file", null, -1, new File(taskRoot).getPath() + "/"));
            appendJars(new File(taskRoot, "lib"), urls);
            appendJars(new File(optRoot, "lib"), urls);
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
        return urls.toArray(new URL[0]);
    }

    private static void appendJars(File dir, List<URL> out) throws MalformedURLException {
        String[] names = dir.list();
        if (names == null) {
            return;
        }
        Arrays.sort(names);
        for (String name : names) {
            if (name.endsWith(".jar")) {
                out.add(new URL("file", null, -1, dir.getPath() + "/" + name));
            }
        }
    }
}
